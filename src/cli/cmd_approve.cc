// villager approve ARTIFACT: sign an approval of one packaged artifact for one environment and role.

#include <iostream>
#include <nlohmann/json.hpp>

#include "artifact/manifest.h"
#include "base/hash.h"
#include "base/strings.h"
#include "cli/actor.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "gate/approvals_dir.h"
#include "gate/keys.h"
#include "gate/signing.h"
#include "store/audit.h"
#include "store/store.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp =
    R"(usage: villager approve ARTIFACT --env ENV --role ROLE --key FILE [--expires 24h] [--note TEXT] [--json] [-c FILE]

Signs an approval: "the artifact ARTIFACT (sha256:HEX, from `villager package`) may be deployed to ENV,
approved as ROLE". The signer is the name in the key FILE (from `villager keys generate`); the record
holds the artifact digest, service, version, environment, role, signer, issue and expiry times and the
note, as canonical JSON, with the Ed25519 signature. It is written to
<state_dir>/approvals/<HEX>/<ENV>__<ROLE>__<SIGNER>.json, a plain file that can be committed or carried
to another machine, and an "approval.added" event is appended to the audit log. stdout: the file's
path (or JSON with --json).

The gate trusts it only if a [[signer]] in villager.toml lists this key for ROLE; a warning says so
when it does not. See docs/gate.md.

options:
  --env ENV          the environment it approves (must be in villager.toml)
  --role ROLE        the role approving (qa, appsec, conductor, ...)
  --key FILE         the private key file (mode 0600)
  --expires DUR      validity from now, such as 30m, 24h, 7d (default 24h, at most 30d)
  --note TEXT        free text kept in the record (at most 1024 bytes)
  --json             print {"path", "digest", "service", "version", "environment", "role", "signer",
                     "issued_at", "expires_at"}
  -c, --config FILE  the config file (default: $VILLAGER_CONFIG, else ./villager.toml)

exit: 0 ok, 1 failed (artifact altered, unreadable key), 2 usage (unknown artifact or environment, bad flag).
)";

// The file is the approval; the audit log records that it was made, by whom, for what.
Status audit_approval(const config::Config& cfg, const gate::Approval& a, const gate::SignedApproval& sa,
                      const std::filesystem::path& path) {
  auto st = store::Store::open(cfg.state_dir());
  if (!st) return st.error();
  nlohmann::json data{{"environment", a.environment}, {"role", a.role},
                      {"signer", a.signer},           {"service", a.service},
                      {"version", a.version},         {"expires_at", format_rfc3339(a.expires_at)},
                      {"path", path.string()},        {"key", sa.key_fingerprint}};
  auto seq = store::append_audit(**st, {current_actor(), "approval.added", a.digest.full(), data.dump()});
  if (!seq) return seq.error();
  return Ok();
}

// What the gate will make of it: an untrusted key or a role the environment does not ask for is said now.
void warn_about_use(const config::Config& cfg, const gate::Approval& a, const std::string& public_key) {
  bool trusted = false;
  for (const auto& s : cfg.signers)
    trusted |= s.role == a.role && s.name == a.signer && s.public_key == public_key;
  if (!trusted)
    std::cerr << "villager: warning: no [[signer]] in " << cfg.file.filename().string() << " trusts "
              << a.signer << "'s key for role '" << a.role
              << "': the gate will reject this approval (untrusted_signer)\n";
  const auto* e = cfg.environment(a.environment);
  if (std::find(e->requires_roles.begin(), e->requires_roles.end(), a.role) == e->requires_roles.end() &&
      a.role != cfg.gate.override_role)
    std::cerr << "villager: note: environment '" << a.environment << "' does not require role '" << a.role
              << "'\n";
}

void print_approval(const gate::Approval& a, const std::filesystem::path& path, bool as_json) {
  if (as_json) {
    nlohmann::ordered_json j{{"path", path.string()},
                             {"digest", a.digest.full()},
                             {"service", a.service},
                             {"version", a.version},
                             {"environment", a.environment},
                             {"role", a.role},
                             {"signer", a.signer},
                             {"issued_at", format_rfc3339(a.issued_at)},
                             {"expires_at", format_rfc3339(a.expires_at)}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << path.string() << "\n";
  std::cerr << "villager: " << a.signer << " approved " << a.service << " " << a.version << " for "
            << a.environment << " as " << a.role << " until " << format_rfc3339(a.expires_at) << "\n";
}

int run_approve(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag,
                                 {"env", true},
                                 {"role", true},
                                 {"key", true},
                                 {"expires", true},
                                 {"note", true},
                                 {"json"}});
  if (!args) return report_error(args.error().context("approve"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() != 1)
    return report_error("approve: expected one ARTIFACT (sha256:HEX); see `villager approve --help`",
                        kExitUsage);
  for (const char* f : {"env", "role", "key"})
    if (args->get(f).empty())
      return report_error(std::string("approve: --") + f + " is required", kExitUsage);
  auto parsed = Digest::parse(args->positionals()[0]);
  if (!parsed) return report_error(parsed.error().context("approve"), kExitUsage);
  const Digest digest = std::move(*parsed);
  const std::string env = args->get("env"), role = args->get("role");
  if (!gate::valid_name(role))
    return report_error("approve: role '" + role + "' may hold only letters, digits, - and _", kExitUsage);
  auto expires = parse_duration(args->get("expires", "24h"));
  if (!expires) return report_error(expires.error().context("approve: --expires"), kExitUsage);
  if (expires->count() <= 0 || *expires > gate::kMaxApprovalValidity)
    return report_error("approve: --expires must be more than 0 and at most 30d", kExitUsage);
  std::string note = args->get("note");
  if (note.size() > gate::kMaxNoteBytes)
    return report_error("approve: --note is longer than 1024 bytes", kExitUsage);

  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  if (!cfg->environment(env)) return report_error("approve: unknown environment '" + env + "'", kExitUsage);
  const auto store_dir = cfg->state_dir() / "artifacts";
  auto manifest = artifact::read_manifest(store_dir, digest);
  if (!manifest) {
    if (manifest.error().code == Code::kNotFound)
      return report_error("approve: no packaged artifact " + digest.full() + " in " + store_dir.string() +
                              " (run `villager package` first)",
                          kExitUsage);
    return report_error(manifest.error().context("approve"), kExitFailed);
  }
  // Never sign bytes that are not what was packaged.
  if (auto s = artifact::verify_artifact(store_dir, digest); !s.ok())
    return report_error(s.error().context("approve"), kExitFailed);
  auto key = gate::read_private_key(args->get("key"));
  if (!key) return report_error(key.error().context("approve"), kExitFailed);

  gate::Approval a;
  a.digest = digest;
  a.service = manifest->service;
  a.version = manifest->version;
  a.environment = env;
  a.role = role;
  a.signer = key->name;
  // Millisecond precision: the payload carries milliseconds, and the signature must cover what is stored.
  a.issued_at = from_unix_millis(unix_millis(real_clock().now()));
  a.expires_at = a.issued_at + *expires;
  a.note = note;
  auto signed_approval = gate::sign_approval(a, *key);
  if (!signed_approval) return report_error(signed_approval.error().context("approve"), kExitUsage);
  auto path = gate::write_approval(cfg->state_dir() / "approvals", *signed_approval);
  if (!path) return report_error(path.error().context("approve"), kExitFailed);

  if (auto s = audit_approval(*cfg, a, *signed_approval, *path); !s.ok())
    return report_error(s.error().context("approve: wrote " + path->string() + " but could not audit it"),
                        kExitFailed);
  warn_about_use(*cfg, a, gate::public_key_text(key->public_key));
  print_approval(a, *path, args->has("json"));
  return kExitOk;
}

}  // namespace

const Command kApproveCommand = {"approve", "sign an approval of an artifact for an environment and role",
                                 kHelp, run_approve};

}  // namespace villager::cli
