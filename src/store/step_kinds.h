#pragma once
// The steps deploy and rollback record (deployment_steps.name): what the pipeline writes and the report
// and review documents read back, named once. A step's name is its kind, plus ":" and the service (or,
// for a shift, the weight) where the kind takes one: "start_candidate:user", "shift:50", "watch".
//
//   run.step(results, step_name(StepKind::kShift, "50"), ...);        // pipeline
//   if (parse_step(s.name).kind == StepKind::kShift) ...               // review, report

#include <string>
#include <string_view>

namespace villager::store {

enum class StepKind {
  kRehearsal,          // :service   the rollback rehearsal, before anything starts
  kStartCandidate,     // :service   the candidate started and healthy
  kPreTrafficSmoke,    // :service   the smoke suite against the candidate slot
  kShift,              // :weight    traffic moved to the candidate (and the canary judged below 100)
  kPromote,            //            the candidate marked serving
  kPostTrafficSmoke,   //            the smoke suite against the public endpoints
  kWatch,              //            the watch window
  kPostRollbackSmoke,  //            the smoke suite against what a rollback restored
  kStartPrevious,      //            a cold rollback's start of the previous release
  kRouteSwap,          //            a rollback's route swap
  kHold,               // :weight    an inconclusive canary held at this weight (on_inconclusive = "hold")
  kBatch,        // :n         a fleet's batch n (1-based): its hosts started, smoke-tested, switched, baked
  kFleetRevert,  //            every switched host of a fleet put back on its previous release, verified
  kUnknown,      // a name this build does not know (a newer villager wrote it)
};

struct ParsedStep {
  StepKind kind = StepKind::kUnknown;
  std::string arg;  // the service or weight after ':'; "" when the kind takes none
};

std::string_view step_kind_name(StepKind kind);                   // "shift"
std::string step_name(StepKind kind, std::string_view arg = "");  // "shift:50"
ParsedStep parse_step(std::string_view name);

}  // namespace villager::store
