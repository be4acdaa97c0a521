// villager keys generate: an Ed25519 key pair for signing approvals.

#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "gate/keys.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager keys generate --role ROLE --name NAME --out FILE

Makes an Ed25519 key pair for signing approvals. The private key goes to FILE (mode 0600, one line:
`villager-ed25519-private ROLE NAME BASE64`); an existing FILE is never overwritten. stdout is the
[[signer]] table to paste into villager.toml, where it makes NAME trusted for ROLE:

  [[signer]]
  role = "qa"
  name = "qa-lead"
  public_key = "ed25519:..."

options:
  --role ROLE   the role the key signs for (qa, appsec, conductor, ...)
  --name NAME   the signer's name (letters, digits, - and _)
  --out FILE    where to write the private key

exit: 0 ok, 1 failed (FILE exists or cannot be written), 2 usage.
)";

int run_keys(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {{"role", true}, {"name", true}, {"out", true}});
  if (!args) return report_error(args.error().context("keys"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 1 || pos[0] != "generate")
    return report_error("keys: expected `villager keys generate --role ROLE --name NAME --out FILE`",
                        kExitUsage);
  for (const char* f : {"role", "name", "out"})
    if (args->get(f).empty())
      return report_error(std::string("keys generate: --") + f + " is required", kExitUsage);
  auto key = gate::generate_key(args->get("role"), args->get("name"));
  if (!key) return report_error(key.error().context("keys generate"), kExitUsage);
  std::string out = args->get("out");
  if (auto s = gate::write_private_key(out, *key); !s.ok())
    return report_error(s.error().context("keys generate"), kExitFailed);
  std::cout << gate::signer_toml(*key);
  std::cerr << "villager: wrote private key " << out << " (mode 0600): keep it secret; paste the [[signer]] "
            << "table above into villager.toml\n";
  return kExitOk;
}

}  // namespace

const Command kKeysCommand = {"keys", "generate an Ed25519 key pair for signing approvals", kHelp, run_keys};

}  // namespace villager::cli
