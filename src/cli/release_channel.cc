#include "cli/release_channel.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/redact.h"
#include "issues/issues.h"
#include "report/review.h"

namespace villager::cli {

notify::StatusInput current_status(const config::Config& config, store::Store& store) {
  notify::StatusInput in;
  for (const auto& env : config.environments)
    for (const auto& service : config.services_of(env)) {
      notify::StatusRow row{env.name, service, "", "", ""};
      auto kg = store::current_known_good(store, env.name, service);
      if (!kg)
        row.note = "unavailable: " + kg.error().message;
      else if (*kg) {
        row.version = (*kg)->version;
        row.digest = (*kg)->digest;
      }
      in.rows.push_back(row);
    }
  // Malformed issue lines are skipped here; `villager issues` reports them.
  if (auto files = issues::find_issue_files(config.root, config.root); files)
    if (auto list = issues::load_issues(*files); list) in.open_issues = report::open_issues(list->issues);
  return in;
}

ReleaseChannel::ReleaseChannel(const config::Config& config, store::Store& store, std::string actor)
    : config_(config), store_(store), actor_(std::move(actor)) {
  std::vector<config::NotifyConfig> channels;
  for (const auto& c : config.notify)
    if (c.takes_pipeline_events()) channels.push_back(c);
  if (!channels.empty()) notifier_ = std::make_unique<notify::Notifier>(std::move(channels));
}

ReleaseChannel::~ReleaseChannel() {
  finish();
}

void ReleaseChannel::attach(pipeline::DeployHooks& hooks) {
  if (!notifier_) return;
  hooks.notify = [this](const notify::PipelineEvent& event) {
    notify::PipelineEvent e = event;
    if (e.deployment_id > 0)
      if (auto dep = store::get_deployment(store_, e.deployment_id); dep)
        e.review_path = report::review_path(config_, *dep).string();
    notifier_->publish(e);
  };
}

void ReleaseChannel::status_update(const std::string& environment, const std::string& headline,
                                   const std::string& result,
                                   const std::vector<pipeline::ServiceResult>& results,
                                   const std::vector<std::string>& reviews) {
  if (!notifier_) return;
  notify::StatusInput in = current_status(config_, store_);
  in.headline = headline;
  in.result = result;
  in.reviews = reviews;
  std::vector<std::string> details;
  for (const auto& r : results)
    if (auto steps = store::list_steps(store_, r.deployment_id); steps)
      for (const auto& s : *steps) details.push_back(s.detail);
  in.smoke = notify::smoke_summary(details);
  notify::PipelineEvent e;
  e.kind = std::string(notify::kStatusUpdate);
  e.actor = actor_;
  e.outcome = result;
  e.at_ms = unix_millis(real_clock().now());
  e.environment = environment;
  if (!results.empty()) e.version = results.front().version;
  if (!reviews.empty()) e.review_path = reviews.front();
  e.text = notify::status_markdown(in);
  notifier_->publish(e);
}

void ReleaseChannel::finish() {
  if (!notifier_) return;
  notifier_->finish(notifier_->exit_wait());
  for (const auto& f : notifier_->failures()) {
    std::cerr << redact("villager: notify: " + f) << "\n";
    (void)store::append_audit(
        store_, {actor_, "notify.failed", "notify", nlohmann::json{{"error", redact(f)}}.dump()});
  }
  notifier_.reset();
}

}  // namespace villager::cli
