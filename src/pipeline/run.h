#pragma once
// Run: one deploy or rollback in progress, as the pipeline's stages see it: progress lines, a step recorded
// for every service it touches (timed, with its JSON detail and error), audit entries and the rows closed
// at the end. Internal to pipeline/ (deploy.cc, fleet_rollout.cc).

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "pipeline/deploy.h"
#include "store/step_detail.h"
#include "store/store.h"

namespace villager::pipeline {

// One deploy in progress: the per-service records and the helpers that keep store and audit in step.
class Run {
 public:
  Run(store::Store& store, Clock& clock, const ProgressFn& progress, std::string env, std::string actor)
      : store_(store), clock_(clock), progress_(progress), env_(std::move(env)), actor_(std::move(actor)) {}

  void say(const std::string& line) {
    if (progress_) progress_(line);
  }

  // Records a step for every service in `results` and returns its outcome. `body` fills the step's
  // detail (store/step_detail.h) and returns its status; the recorder adds the duration and the error.
  // What the body put in `by_service` (a canary verdict judged per service) goes to that service's row
  // only, over the shared detail.
  template <class F>
  Status step(std::vector<ServiceResult>& results, const std::string& name, F&& body,
              store::StepDetail detail = {},
              const std::map<std::string, store::StepDetail>* by_service = nullptr) {
    struct Row {
      int64_t deployment_id;
      int seq;
      const std::string* service;
    };
    std::vector<Row> rows;
    for (const auto& r : results) {
      auto seq = store::add_step(store_, r.deployment_id, name);
      if (seq) rows.push_back({r.deployment_id, *seq, &r.service});
    }
    auto started = clock_.steady_now();
    Status s = body(detail);
    detail.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - started).count();
    if (!s.ok()) detail.error = s.error().message;
    const nlohmann::json shared = detail.to_json();
    for (const auto& row : rows) {
      nlohmann::json j = shared;
      if (by_service)
        if (auto own = by_service->find(*row.service); own != by_service->end())
          j.update(own->second.to_json());
      // Replacement of invalid UTF-8 (an error quoting a binary answer) keeps the row writable.
      (void)store::finish_step(store_, row.deployment_id, row.seq,
                               s.ok() ? store::StepStatus::kSucceeded : store::StepStatus::kFailed,
                               j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return s;
  }

  void audit(const std::string& kind, const std::string& service, nlohmann::json data) {
    (void)store::append_audit(store_, {actor_, kind, env_ + "/" + service, data.dump()});
  }

  void finish(std::vector<ServiceResult>& results, store::DeploymentStatus status,
              const std::string& message) {
    for (auto& r : results) {
      r.status = std::string(store::to_string(status));
      nlohmann::json detail = record_;
      detail["message"] = message;
      (void)store::finish_deployment(store_, r.deployment_id, status, detail.dump());
    }
  }

  // Kept with every deployment row when it finishes (the gate's decision, approval-to-deployed).
  nlohmann::json& record() { return record_; }

  store::Store& store() { return store_; }
  Clock& clock() { return clock_; }

 private:
  store::Store& store_;
  Clock& clock_;
  const ProgressFn& progress_;
  std::string env_;
  std::string actor_;
  nlohmann::json record_ = nlohmann::json::object();
};

}  // namespace villager::pipeline
