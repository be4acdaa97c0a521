// villager waive: sign a waiver of one known smoke finding for one environment, in one role, for a while.

#include <iostream>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/actor.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "gate/keys.h"
#include "gate/names.h"
#include "gate/waiver.h"
#include "smoke/smoke.h"
#include "store/audit.h"
#include "store/store.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp =
    R"(usage: villager waive --env ENV --check CHECK --service SVC --finding FP [--finding FP ...]
                      --role ROLE --key FILE --note TEXT [--expires 14d] [--json] [-c FILE]

Signs a waiver: "the smoke finding FP (a fingerprint printed by `villager smoke`, fp:...) of check
CHECK on service SVC may pass in environment ENV until the expiry, for the reason in TEXT". The
fingerprint covers the check, the service and what was observed, so a changed or new finding is not
covered. The record (finding, check, service, environment, role, signer, issue and expiry times, note)
is canonical JSON with an Ed25519 signature, written to
<state_dir>/waivers/<FP hex>/<ENV>__<ROLE>__<SIGNER>.json, and a "waiver.added" event is appended to
the audit log. One record per --finding. stdout: the paths (or JSON with --json).

The smoke suite accepts it only when ENV lists ROLE in `waiver_roles` and a [[signer]] of that role
holds the key; every role in waiver_roles must have signed. A waived finding still runs and is reported
as waived (smoke JSON, JUnit, the review document, the status update); an expired waiver blocks again.
See docs/smoke.md, "Waivers".

options:
  --env ENV          the environment (must be in villager.toml)
  --check CHECK      the check that found it (health, auth, cors, ... or a [[smoke.check]] name)
  --service SVC      the service it was found on
  --finding FP       the finding's fingerprint (repeatable)
  --role ROLE        the role waiving it (appsec, ...)
  --key FILE         the private key file (mode 0600, from `villager keys generate`)
  --note TEXT        why (required; at most 1024 bytes), e.g. "RF-09, fix in v0.4"
  --expires DUR      validity from now, such as 72h, 14d (default 14d, at most 30d)
  --json             print [{"path", "finding", "check", "service", "environment", "role", "signer",
                     "issued_at", "expires_at"}]
  -c, --config FILE  the config file (default: $VILLAGER_CONFIG, else ./villager.toml)

exit: 0 ok, 1 failed (unreadable key, unwritable state), 2 usage (unknown environment, check or service,
bad fingerprint, expiry over 30d, missing note).
)";

// The usage problems of the flags, against the config: "" when all is well.
std::string flag_problem(const config::Config& cfg, const std::string& env, const std::string& check,
                         const std::string& service, const std::vector<std::string>& findings) {
  if (!cfg.environment(env)) return "unknown environment '" + env + "'";
  std::vector<std::string> checks(smoke::kBuiltinChecks.begin(), smoke::kBuiltinChecks.end());
  for (const auto& k : cfg.smoke.checks) checks.push_back(k.name);
  if (std::find(checks.begin(), checks.end(), check) == checks.end()) {
    std::string hint = suggest(check, checks);
    return "unknown check '" + check + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)");
  }
  if (!cfg.service(service)) return "unknown service '" + service + "'";
  for (const auto& fp : findings)
    if (!gate::valid_finding_fingerprint(fp))
      return "--finding '" + fp +
             "' is not a fingerprint (fp: and 20 hex digits, as `villager smoke` prints)";
  return "";
}

int run_waive(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag,
                                 {"env", true},
                                 {"check", true},
                                 {"service", true},
                                 {"finding", true},
                                 {"role", true},
                                 {"key", true},
                                 {"note", true},
                                 {"expires", true},
                                 {"json"}});
  if (!args) return report_error(args.error().context("waive"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (!args->positionals().empty()) return report_error("waive takes no arguments; see --help", kExitUsage);
  for (const char* f : {"env", "check", "service", "finding", "role", "key", "note"})
    if (trim(args->get(f)).empty())
      return report_error(std::string("waive: --") + f + " is required", kExitUsage);
  const std::string env = args->get("env"), check = args->get("check"), service = args->get("service");
  const std::string role = args->get("role"), note = args->get("note");
  const auto findings = args->get_all("finding");
  if (!gate::valid_name(role))
    return report_error("waive: role '" + role + "' may hold only letters, digits, - and _", kExitUsage);
  auto expires = parse_duration(args->get("expires", "14d"));
  if (!expires) return report_error(expires.error().context("waive: --expires"), kExitUsage);
  if (expires->count() <= 0 || *expires > gate::kMaxWaiverValidity)
    return report_error("waive: --expires must be more than 0 and at most 30d", kExitUsage);
  if (note.size() > gate::kMaxWaiverNoteBytes)
    return report_error("waive: --note is longer than 1024 bytes", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  if (std::string p = flag_problem(*cfg, env, check, service, findings); !p.empty())
    return report_error("waive: " + p, kExitUsage);
  auto key = gate::read_private_key(args->get("key"));
  if (!key) return report_error(key.error().context("waive"), kExitFailed);

  auto st = store::Store::open(cfg->state_dir());
  if (!st) return report_error(st.error().context("waive"), kExitFailed);
  nlohmann::ordered_json written = nlohmann::ordered_json::array();
  // Millisecond precision: the payload carries milliseconds, and the signature must cover what is stored.
  const auto issued = from_unix_millis(unix_millis(real_clock().now()));
  for (const auto& fp : findings) {
    gate::Waiver w{fp, check, service, env, role, key->name, issued, issued + *expires, note};
    auto signed_waiver = gate::sign_waiver(w, *key);
    if (!signed_waiver) return report_error(signed_waiver.error().context("waive"), kExitUsage);
    auto path = gate::write_waiver(cfg->state_dir() / "waivers", *signed_waiver);
    if (!path) return report_error(path.error().context("waive"), kExitFailed);
    nlohmann::json data{
        {"environment", env}, {"check", check},         {"service", service},
        {"role", role},       {"signer", w.signer},     {"expires_at", format_rfc3339(w.expires_at)},
        {"note", note},       {"path", path->string()}, {"key", signed_waiver->key_fingerprint}};
    if (auto seq = store::append_audit(**st, {current_actor(), "waiver.added", fp, data.dump()}); !seq)
      return report_error(seq.error().context("waive: wrote " + path->string() + " but could not audit it"),
                          kExitFailed);
    written.push_back({{"path", path->string()},
                       {"finding", fp},
                       {"check", check},
                       {"service", service},
                       {"environment", env},
                       {"role", role},
                       {"signer", w.signer},
                       {"issued_at", format_rfc3339(w.issued_at)},
                       {"expires_at", format_rfc3339(w.expires_at)}});
  }

  // Say now what the smoke suite will refuse later.
  bool trusted = false;
  const std::string pk = gate::public_key_text(key->public_key);
  for (const auto& s : cfg->signers) trusted |= s.role == role && s.name == key->name && s.public_key == pk;
  if (!trusted)
    std::cerr << "villager: warning: no [[signer]] in " << cfg->file.filename().string() << " trusts "
              << key->name << "'s key for role '" << role
              << "': this waiver will be refused (untrusted_signer)\n";
  const auto& roles = cfg->environment(env)->waiver_roles;
  if (std::find(roles.begin(), roles.end(), role) == roles.end())
    std::cerr << "villager: warning: environment '" << env << "' takes waivers "
              << (roles.empty() ? std::string("from no role (set waiver_roles)")
                                : "only from " + join(roles, ", "))
              << ": this waiver will be refused (role_not_accepted)\n";
  if (args->has("json")) {
    std::cout << written.dump(2) << "\n";
  } else {
    for (const auto& w : written) std::cout << w["path"].get<std::string>() << "\n";
    std::cerr << "villager: " << key->name << " waived " << findings.size() << " finding(s) of " << check
              << "/" << service << " in " << env << " as " << role << " until "
              << format_rfc3339(issued + *expires) << "\n";
  }
  return kExitOk;
}

}  // namespace

const Command kWaiveCommand = {"waive", "sign a waiver of a known smoke finding for an environment", kHelp,
                               run_waive};

}  // namespace villager::cli
