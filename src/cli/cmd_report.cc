#include <iostream>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "report/report.h"
#include "report/review.h"
#include "store/store.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager report [ENV] [--since 30d] [--json]
       villager report --review ID [--review ID ...]

Prints the release role's targets, each with its value measured from the store and whether it is
met: smoke pass rate after deployment (100%), mean time to rollback (under 5m), production uptime
from the probes (99.9%+), deployment success rate (99%+), approval to deployed (under 15m; median
and worst) and monitoring coverage (100%). Then the five DORA metrics: deployment frequency, lead
time for changes (commit to deployed), change failure rate, failed deployment recovery time and
deployment rework rate. A figure the store holds no data for says "no data" and why.
Without ENV, every environment. docs/report.md defines each figure.

--review ID writes (again) the review document of deployment ID (see `villager history`) and
prints its path; an existing document is kept and the new one gets a -2, -3 ... suffix.

options:
  --since DURATION   the window: deployments started within DURATION of now (default 30d)
  --review ID        write the review document of deployment ID
  -c, --config FILE  the config file (default ./villager.toml)
  --json             print JSON: {"environment", "since", "until", "targets": [...], "dora": [...],
                     "reviews_dir"}, each figure {key, name, value, unit, display, target, met,
                     samples, note}
)";

int count_documents(const std::filesystem::path& dir) {
  std::error_code ec;
  int n = 0;
  if (!std::filesystem::is_directory(dir, ec)) return 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".md") ++n;
  return n;
}

int run_report(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"since", true}, {"review", true}, {"json"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (args->positionals().size() > 1) return report_error("report takes at most one ENV", kExitUsage);
  auto cfg = load_project(*args);
  if (!cfg) return report_error(cfg.error(), kExitUsage);
  report::ReportOptions options;
  if (!args->positionals().empty()) {
    options.environment = args->positionals()[0];
    if (!cfg->environment(options.environment))
      return report_error("no environment '" + options.environment + "' in " + cfg->file.string(),
                          kExitUsage);
  }
  auto since = parse_duration(args->get("since", "30d"));
  if (!since) return report_error(since.error().context("--since"), kExitUsage);
  std::vector<int64_t> review_ids;
  for (const auto& text : args->get_all("review")) {
    char* end = nullptr;
    long long id = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || id <= 0)
      return report_error("--review: '" + text + "' is not a deployment id", kExitUsage);
    review_ids.push_back(id);
  }

  store::OpenOptions oo;
  oo.create_if_missing = false;
  auto st = store::Store::open(cfg->state_dir(), oo);
  if (!st) {
    if (st.error().code == Code::kNotFound)
      return report_error("no state yet in " + cfg->state_dir().string() + ": nothing has been deployed",
                          kExitFailed);
    return report_error(st.error(), kExitFailed);
  }
  if (!review_ids.empty()) {
    for (int64_t id : review_ids) {
      auto path = report::write_review_for_deployment(*cfg, **st, id);
      if (!path)
        return report_error(path.error(), path.error().code == Code::kNotFound ? kExitUsage : kExitFailed);
      std::cout << path->string() << "\n";
    }
    return kExitOk;
  }

  options.until_ms = unix_millis(real_clock().now());
  options.since_ms = options.until_ms - since->count();
  auto r = report::compute_report(**st, &*cfg, options);
  if (!r) return report_error(r.error(), kExitFailed);
  std::filesystem::path reviews = cfg->root / cfg->project.reviews_dir;
  if (args->has("json")) {
    auto j = nlohmann::ordered_json::parse(report::report_to_json(*r), nullptr, /*allow_exceptions=*/false);
    j["reviews_dir"] = reviews.string();
    std::cout << redact(j.dump(2)) << "\n";
    return kExitOk;
  }
  std::cout << redact(report::format_report(*r));
  std::cout << "\nReview documents: " << redact(reviews.string()) << " (" << count_documents(reviews)
            << " documents)\n";
  return kExitOk;
}

}  // namespace

const Command kReportCommand = {"report", "release targets and DORA metrics from the store; review documents",
                                kHelp, run_report};

}  // namespace villager::cli
