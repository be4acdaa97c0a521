// villager approvals [ARTIFACT]: every stored approval and whether the gate would accept it now.

#include <iostream>
#include <nlohmann/json.hpp>

#include "artifact/manifest.h"
#include "base/hash.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "gate/gate.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager approvals [ARTIFACT] [--env ENV] [--json] [-c FILE]
       villager approvals ARTIFACT --env ENV --gate [--json] [-c FILE]

Lists the approvals in <state_dir>/approvals (only ARTIFACT's, sha256:HEX, when given) with their
validity evaluated now against villager.toml's signers: "valid", or the reason the gate would reject
it (unknown_signer, untrusted_signer, bad_signature, edited_record, other_digest, other_environment,
expired). other_digest and other_environment here mean the record disagrees with the folder or file
name it sits in. See docs/gate.md.

options:
  --env ENV          only approvals for ENV
  --gate             instead of listing, decide as deploy's gate would whether ARTIFACT may go to ENV
                     now: every role ENV requires needs a valid approval of exactly these bytes (the
                     artifact must be in the store). Prints the approvals used, or each reason;
                     with --json the gate's decision (docs/gate.md). Exit 0 allowed, 3 refused.
  --json             print {"approvals": [{"path", "digest", "service", "version", "environment", "role",
                     "signer", "issued_at", "expires_at", "note", "valid", "status", "message"}...]}
  -c, --config FILE  the config file (default: $VILLAGER_CONFIG, else ./villager.toml)

exit: 0 ok (whatever the validity; with --gate: allowed), 1 failed, 2 usage, 3 refused by the gate.
)";

// --gate: the deploy's gate decision for one artifact, without deploying (CI runs it before deploy).
int run_gate(const config::Config& cfg, const Digest& digest, const std::string& env, bool as_json) {
  auto m = artifact::read_manifest(cfg.state_dir() / "artifacts", digest);
  if (!m) return report_error(m.error().context("approvals --gate"), kExitUsage);
  auto d = gate::evaluate_gate(cfg, env, {{m->service, digest, m->version}}, real_clock().now());
  if (!d) return report_error(d.error().context("approvals --gate"), exit_code_for(d.error()));
  if (as_json) {
    std::cout << gate::decision_json(*d) << "\n";
  } else if (d->allowed) {
    std::vector<std::string> used;
    for (const auto& a : d->approvals_used) used.push_back(a.role + ": " + a.signer);
    std::cout << "gate " << env << ": " << m->service << " " << m->version << " allowed"
              << (used.empty() ? "" : " (" + join(used, ", ") + ")") << "\n";
  }
  if (d->allowed) return kExitOk;
  std::cout.flush();
  return report_error(
      "the gate refuses " + m->service + " " + m->version + " for " + env + ":\n" + d->summary(),
      kExitGateRejected);
}

int run_approvals(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"env", true}, {"json"}, {"gate"}});
  if (!args) return report_error(args.error().context("approvals"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() > 1)
    return report_error("approvals: takes at most one ARTIFACT", kExitUsage);
  Digest digest;  // empty: every approval
  if (!args->positionals().empty()) {
    auto d = Digest::parse(args->positionals()[0]);
    if (!d) return report_error(d.error().context("approvals"), kExitUsage);
    digest = std::move(*d);
  }
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  std::string env_filter = args->get("env");
  if (!env_filter.empty() && !cfg->environment(env_filter))
    return report_error("approvals: unknown environment '" + env_filter + "'", kExitUsage);
  if (args->has("gate")) {
    if (digest.empty() || env_filter.empty())
      return report_error("approvals --gate needs ARTIFACT and --env ENV", kExitUsage);
    return run_gate(*cfg, digest, env_filter, args->has("json"));
  }
  auto list = gate::list_approvals(cfg->state_dir() / "approvals", digest);
  if (!list) return report_error(list.error().context("approvals"), kExitFailed);
  SystemTime now = real_clock().now();

  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"DIGEST", "SERVICE", "VERSION", "ENV", "ROLE", "SIGNER", "EXPIRES", "STATUS"});
  for (const auto& sa : *list) {
    const gate::Approval* a = sa.parsed ? &sa.parsed->approval : nullptr;
    // A record belongs to the environment it names and to the one it is filed under.
    if (!env_filter.empty() && sa.file_env != env_filter && (!a || a->environment != env_filter)) continue;
    // Judged against where it is filed: the folder names the digest, the file name the environment.
    Digest where_digest = !sa.dir_digest.empty() ? sa.dir_digest : (a ? a->digest : Digest());
    std::string where_env = !sa.file_env.empty() ? sa.file_env : (a ? a->environment : "");
    gate::ApprovalCheck c = gate::check_approval(*cfg, sa, where_digest, where_env, now);
    std::string status = c.valid ? "valid" : std::string(gate::reject_code_name(*c.code));
    nlohmann::ordered_json j;
    j["path"] = sa.path.string();
    const Digest& shown = a ? a->digest : where_digest;
    j["digest"] = shown.full();
    j["service"] = a ? a->service : "";
    j["version"] = a ? a->version : "";
    j["environment"] = a ? a->environment : where_env;
    j["role"] = a ? a->role : "";
    j["signer"] = a ? a->signer : "";
    j["issued_at"] = a ? format_rfc3339(a->issued_at) : "";
    j["expires_at"] = a ? format_rfc3339(a->expires_at) : "";
    j["note"] = a ? a->note : "";
    j["valid"] = c.valid;
    j["status"] = status;
    j["message"] = c.message;
    out.push_back(j);
    rows.push_back({shown.short_form(), j["service"], j["version"], j["environment"], j["role"], j["signer"],
                    j["expires_at"], status});
  }
  if (args->has("json")) {
    // error_handler replace: a damaged note must not stop the listing.
    std::cout << nlohmann::ordered_json{{"approvals", out}}.dump(
                     2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
    return kExitOk;
  }
  if (rows.size() == 1) {
    std::cerr << "villager: no approvals" << (digest.empty() ? "" : " for " + digest.full()) << "\n";
    return kExitOk;
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
  for (size_t i = 0; i < out.size(); ++i)
    if (!out[i]["valid"].get<bool>())
      std::cerr << "villager: " << out[i]["status"].get<std::string>() << ": "
                << out[i]["message"].get<std::string>() << "\n";
  return kExitOk;
}

}  // namespace

const Command kApprovalsCommand = {"approvals", "list approvals and whether each is valid now", kHelp,
                                   run_approvals};

}  // namespace villager::cli
