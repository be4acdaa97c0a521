#pragma once
// Review documents: one markdown file per deployment and per rollback, written when it ends whatever the
// outcome, in SGraph Send's review conventions (a title, a bold header block, then sections). A
// ReviewInput holds everything a document shows; review_input_from_store() fills what the store records
// and leaves the rest "not recorded" (never invented); the pipeline adds what only it knows through
// ReviewExtra. render_review() is pure (same input, same bytes); write_review() redacts, then writes.
//
//   auto path = report::write_review_for_deployment(config, store, deployment_id, extra);

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "artifact/manifest.h"
#include "base/error.h"
#include "config/config.h"
#include "issues/issues.h"
#include "store/store.h"

namespace villager::report {

struct Approval {
  std::string role;    // "qa"
  std::string signer;  // "qa-lead"
  int64_t at_ms = 0;   // when it was signed
};

struct RollbackPlan {
  std::string previous_version;  // what a rollback returns to; "" = nothing to return to
  std::string previous_digest;
  std::string rehearsal;  // "passed" | "failed: ..." | "" = not recorded
  std::optional<int64_t> rehearsal_ms;
  std::optional<int64_t> rehearsed_at_ms;
};

struct SmokeResult {
  std::string check;  // "health", "auth", ... or a suite step name
  std::string phase;  // "before traffic" | "after traffic"
  bool passed = false;
  int64_t duration_ms = 0;
  std::string detail;  // why it failed; "" when it passed
  std::string waived;  // "fp:... waived by appsec-lead (appsec) until ...: RF-09"; "" when nothing was
};

struct TrafficStep {
  int weight = 0;  // percent on the new release
  int64_t at_ms = 0;
  std::string verdict;  // "healthy" | "failed: ..."
};

// One host of a fleet (target "ssh") as the rollout left it: the last batch or revert step's record.
struct HostResult {
  std::string host;
  std::string before;  // the version of this service the host served before; "" = none
  std::string state;   // "switched" | "reverted" | "current" | "failed" | "unreachable" | "pending" ...
  std::string error;   // why the host failed or could not be reached; "" otherwise
};

struct MonitoringRow {
  std::string metric;  // "error_rate"
  std::string baseline;
  std::string candidate;
  std::string verdict;  // "ok" | "worse" | ...
};

struct TimelineEntry {
  int64_t at_ms = 0;
  std::string what;
};

// What only the pipeline (gate, smoke, monitor) knows; every unset field stays "not recorded".
struct ReviewExtra {
  std::optional<std::vector<Approval>> approvals;
  std::optional<RollbackPlan> rollback_plan;      // replaces the one derived from the store
  std::optional<std::vector<SmokeResult>> smoke;  // replaces the suite-level rows derived from steps
  std::optional<std::vector<MonitoringRow>> monitoring;
  std::optional<std::vector<std::string>> alarms_fired;
  std::string trigger;                  // rollback: what triggered it (default: the recorded reason)
  std::optional<int64_t> detected_at;   // rollback: when the problem was detected (unix ms)
  std::vector<TimelineEntry> timeline;  // merged into the derived timeline by time
};

struct ReviewInput {
  store::Deployment deployment;
  std::vector<store::DeploymentStep> steps;
  std::string previous_version;  // version of deployment.from_digest, "" when unknown
  std::optional<std::vector<Approval>> approvals;
  std::optional<RollbackPlan> rollback_plan;
  std::optional<std::vector<SmokeResult>> smoke;
  std::optional<std::vector<TrafficStep>> traffic;
  std::optional<std::vector<HostResult>> hosts;  // a fleet's hosts; unset for one-host targets
  std::optional<std::vector<MonitoringRow>> monitoring;
  std::optional<std::vector<std::string>> alarms_fired;
  std::vector<TimelineEntry> timeline;  // sorted by time
  // Rollback documents (kind rollback, or a deploy that ended rolled back).
  std::string trigger;
  std::optional<int64_t> detected_at;
  std::optional<int64_t> restored_at;
  std::optional<std::vector<issues::Issue>> issues;  // the open deployment issues
  std::vector<issues::Problem> issue_problems;
  // The build step's run, from the release manifest (write_review_for_deployment reads it); a release
  // packaged without one (no `build`, or `package --skip-build`) has no Build section.
  std::optional<artifact::BuildRecord> build;
  // The Python distributions vendored into the release (python_deps, from its manifest); none: no
  // Python dependencies section.
  std::vector<artifact::PythonDep> python_deps;

  bool is_rollback() const;  // a rollback, or a deploy that was rolled back
};

// Builds the input from the store: the deployment, its steps (start_candidate:SVC, shift:W, promote,
// post_traffic_smoke, watch, start_previous, route_swap and their detail JSON), the previous release,
// the timeline, and for rollbacks the trigger and detection-to-restored times. Then applies `extra`.
// Issues are not read here (see write_review_for_deployment). NotFound for an unknown id.
Result<ReviewInput> review_input_from_store(store::Store& store, int64_t deployment_id,
                                            const ReviewExtra& extra = {});

// The markdown document. Times print as UTC.
std::string render_review(const ReviewInput& input);

// `<root>/<project.reviews_dir>/MM/DD/{version}__{kind}__{env}-{service}.md`, MM/DD being the UTC date
// the deployment finished (started, while running); kind is "deploy" or "rollback".
std::filesystem::path review_path(const config::Config& config, const store::Deployment& deployment);

// Renders, passes the text through redact(), and writes it at review_path(); if that name exists, the
// first free "-2", "-3", ... suffix. Returns the path written.
Result<std::filesystem::path> write_review(const config::Config& config, const ReviewInput& input);

// The one call for the pipeline: builds the input from the store and `extra`, adds the open issues of
// the project (issues-fs files found from the config's folder; unreadable issues are noted, not fatal)
// and the build record and vendored Python dependencies of the release's manifest, and writes the
// document. Call it after finish_deployment,
// once per deployment row.
Result<std::filesystem::path> write_review_for_deployment(const config::Config& config, store::Store& store,
                                                          int64_t deployment_id,
                                                          const ReviewExtra& extra = {});

// Issues still open: status not in done/closed/resolved/released/answered/mitigated/accepted.
std::vector<issues::Issue> open_issues(const std::vector<issues::Issue>& all);

}  // namespace villager::report
