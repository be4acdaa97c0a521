#include "pipeline/fleet_rollout.h"

#include <algorithm>
#include <mutex>

#include "base/strings.h"
#include "net/health.h"
#include "net/http.h"
#include "secrets/resolve.h"
#include "store/monitor_events.h"
#include "store/step_kinds.h"
#include "targets/ssh.h"

namespace villager::pipeline {

namespace {

using json = nlohmann::json;
using store::step_name;
using store::StepKind;

constexpr std::chrono::milliseconds kBakePoll{250};
constexpr std::chrono::milliseconds kHealthTimeout{2000};

// "web3: why; web4: why" for every host with an error, in fleet order.
std::string host_errors(const std::vector<FleetHost>& hosts, const std::vector<size_t>& which) {
  std::vector<std::string> out;
  for (size_t i : which)
    if (!hosts[i].error.empty()) out.push_back(hosts[i].name + ": " + hosts[i].error);
  return join(out, "; ");
}

// "admin v1.0.0, user v1.0.0": what a host served before the rollout, for "last known serving".
std::string served(const std::map<std::string, targets::SlotInfo>& before) {
  std::string out;
  for (const auto& [service, slot] : before) out += (out.empty() ? "" : ", ") + service + " " + slot.version;
  return out;
}

std::vector<std::string> names(const std::vector<FleetHost>& hosts, const std::vector<size_t>& which) {
  std::vector<std::string> out;
  for (size_t i : which) out.push_back(hosts[i].name);
  return out;
}

}  // namespace

std::vector<std::vector<size_t>> plan_batches(size_t hosts, const config::HostCount& batch) {
  size_t per = static_cast<size_t>(std::max(1, batch.of(static_cast<int>(hosts))));
  std::vector<std::vector<size_t>> out;
  for (size_t i = 0; i < hosts; i += per) {
    out.emplace_back();
    for (size_t j = i; j < std::min(hosts, i + per); ++j) out.back().push_back(j);
  }
  return out;
}

FleetRollout::FleetRollout(const config::Config& config, const config::EnvironmentConfig& env,
                           targets::Fleet& fleet, Run& run, const DeployHooks& hooks, Clock& clock)
    : config_(config), env_(env), fleet_(fleet), run_(run), hooks_(hooks), clock_(clock) {
  for (size_t i = 0; i < fleet.size(); ++i) {
    FleetHost h;
    h.index = i;
    h.name = fleet.host(i).name;
    hosts_.push_back(std::move(h));
  }
}

Status FleetRollout::survey(const std::vector<std::string>& services) {
  targets::in_parallel(hosts_.size(), [&](size_t i) {
    FleetHost& h = hosts_[i];
    auto t = fleet_.host_target(i);
    auto slots = t ? (*t)->slots() : Result<std::vector<targets::SlotInfo>>(t.error());
    if (!slots) {
      h.state = "unreachable";
      h.error = slots.error().message;
      return;
    }
    for (const auto& s : *slots)
      if (s.role == targets::SlotRole::kServing &&
          std::find(services.begin(), services.end(), s.service) != services.end())
        h.before[s.service] = s;
  });
  std::vector<size_t> down;
  for (const auto& h : hosts_)
    if (h.state == "unreachable") down.push_back(h.index);
  if (down.empty()) return Ok();
  int need = env_.ssh.min_healthy.of(static_cast<int>(hosts_.size()));
  int reachable = static_cast<int>(hosts_.size() - down.size());
  if (reachable < need)
    return Unavailable(std::to_string(reachable) + " of " + std::to_string(hosts_.size()) + " hosts of " +
                       env_.name + " can be reached and min_healthy needs " + std::to_string(need) + ": " +
                       host_errors(hosts_, down));
  run_.say("left out (unreachable, min_healthy " + std::to_string(need) +
           " still met): " + host_errors(hosts_, down) + "; a later deploy brings them up to date");
  return Ok();
}

targets::SlotInfo FleetRollout::serving(const std::string& service) const {
  std::map<std::string, int> count;
  targets::SlotInfo best;
  int best_n = 0;
  for (const auto& h : hosts_) {
    auto it = h.before.find(service);
    if (it == h.before.end()) continue;
    if (int n = ++count[it->second.digest]; n > best_n) {
      best_n = n;
      best = it->second;
    }
  }
  return best;
}

bool FleetRollout::everywhere(const std::string& service, const std::string& digest) const {
  for (const auto& h : hosts_) {
    if (h.state == "unreachable") continue;
    auto it = h.before.find(service);
    if (it == h.before.end() || it->second.digest != digest) return false;
  }
  return true;
}

Status FleetRollout::roll_out(std::vector<ServiceResult>& results) {
  auto batches = plan_batches(hosts_.size(), env_.ssh.batch);
  std::vector<size_t> switched;
  for (size_t b = 0; b < batches.size(); ++b) {
    Status healthy = check_min_healthy();
    std::vector<size_t> batch;
    for (size_t i : batches[b]) {
      bool current = std::all_of(results.begin(), results.end(), [&](const ServiceResult& r) {
        auto it = hosts_[i].before.find(r.service);
        return it != hosts_[i].before.end() && it->second.digest == r.digest;
      });
      if (hosts_[i].state == "unreachable") continue;
      if (current) {
        hosts_[i].state = "current";
        continue;
      }
      batch.push_back(i);
    }
    if (batch.empty() && healthy.ok()) continue;
    if (b > 0 && env_.ssh.batch_wait.count() > 0) clock_.sleep_for(env_.ssh.batch_wait);
    std::string label = std::to_string(b + 1) + "/" + std::to_string(batches.size());
    run_.say("batch " + label + ": " + join(names(hosts_, batch), ", "));
    Status s = run_.step(results, step_name(StepKind::kBatch, std::to_string(b + 1)),
                         [&](store::StepDetail& detail) -> Status {
                           detail.batch = static_cast<int>(b + 1);
                           detail.of = static_cast<int>(batches.size());
                           detail.hosts = names(hosts_, batch);
                           Status r = healthy.ok() ? run_batch(results, batch) : healthy;
                           for (size_t i : batch)
                             if (hosts_[i].state == "switched") switched.push_back(i);
                           if (r.ok()) r = bake(results, switched);
                           detail.hosts = hosts_json();
                           return r;
                         });
    if (s.ok()) continue;
    std::string halted = "batch " + label + " failed: " + s.error().message;
    run_.say("halting the rollout: " + halted);
    std::string reverted;
    Status r =
        run_.step(results, step_name(StepKind::kFleetRevert), [&](store::StepDetail& detail) -> Status {
          auto done = revert(results);
          detail.hosts = hosts_json();
          if (!done) return done.error();
          reverted = *done;
          return Ok();
        });
    return Unavailable(halted + "; " + (r.ok() ? reverted : r.error().message));
  }
  return Ok();
}

Status FleetRollout::check_min_healthy() {
  std::vector<size_t> lost;
  for (auto& h : hosts_) {
    if (h.touched || h.state == "unreachable") continue;  // a touched host that drops fails its batch
    auto t = fleet_.host_target(h.index);                 // no network: whether its SSH master still lives
    if (t) continue;
    h.state = "unreachable";
    std::string last = served(h.before);
    h.error = t.error().message + (last.empty() ? "" : "; last known serving: " + last);
    lost.push_back(h.index);
  }
  std::vector<size_t> down;
  for (const auto& h : hosts_)
    if (h.state == "unreachable" || h.state == "failed") down.push_back(h.index);
  int need = env_.ssh.min_healthy.of(static_cast<int>(hosts_.size()));
  int healthy = static_cast<int>(hosts_.size() - down.size());
  if (healthy < need)
    return Unavailable("only " + std::to_string(healthy) + " of " + std::to_string(hosts_.size()) +
                       " hosts are healthy and min_healthy needs " + std::to_string(need) + ": " +
                       host_errors(hosts_, down));
  if (!lost.empty())
    run_.say("  lost " + host_errors(hosts_, lost) + "; left out (min_healthy " + std::to_string(need) +
             " still met), a later deploy brings it up to date");
  return Ok();
}

Status FleetRollout::run_batch(const std::vector<ServiceResult>& results, const std::vector<size_t>& batch) {
  // Start every candidate on every host of the batch at once; nothing routes to them yet.
  targets::in_parallel(batch.size(), [&](size_t k) {
    FleetHost& h = hosts_[batch[k]];
    auto t = fleet_.host_target(h.index);
    if (!t) {
      h.state = "unreachable";
      h.error = t.error().message;
      return;
    }
    for (const auto& r : results) {
      if (auto it = h.before.find(r.service); it != h.before.end() && it->second.digest == r.digest) continue;
      h.touched = true;
      auto slot = (*t)->start_candidate(r.service, r.digest, r.version);
      if (!slot) {
        h.state = "failed";
        h.error = r.service + " " + r.version + " did not start: " + slot.error().message;
        return;
      }
      h.started[r.service] = *slot;
    }
    h.state = "started";
  });
  if (std::string e = host_errors(hosts_, batch); !e.empty()) return Unavailable(e);
  // Each host's candidates smoke-tested on that host, one host at a time (the suite is not reentrant).
  if (hooks_.pre_traffic_smoke)
    for (size_t i : batch) {
      auto t = fleet_.host_target(i);
      if (!t) return Unavailable(hosts_[i].name + ": " + t.error().message);
      for (const auto& [service, slot] : hosts_[i].started) {
        store::StepDetail detail;  // the batch step records the hosts; this report is not kept
        auto r =
            std::find_if(results.begin(), results.end(), [&](const auto& x) { return x.service == service; });
        Status smoked = hooks_.pre_traffic_smoke(service, (*t)->slot_url(slot), r->version, detail);
        if (!smoked.ok()) {
          hosts_[i].state = "failed";
          hosts_[i].error = "the " + service + " candidate fails the smoke suite: " + smoked.error().message;
          return Unavailable(hosts_[i].name + ": " + hosts_[i].error);
        }
      }
    }
  // Switch: each host's route moves to its candidate; the release it served stays warm there.
  targets::in_parallel(batch.size(), [&](size_t k) {
    FleetHost& h = hosts_[batch[k]];
    auto t = fleet_.host_target(h.index);
    Status s = t ? Ok() : Status(t.error());
    h.routed = static_cast<bool>(t);  // from the first route change on, a revert must move it back
    for (const auto& [service, slot] : h.started) {
      if (s.ok()) s = (*t)->set_weights(service, {{slot.digest, 100}});
      if (s.ok()) s = (*t)->promote(service, slot.digest);
    }
    if (s.ok()) {
      h.state = "switched";
    } else {
      h.state = "failed";
      h.error = "switching its route: " + s.error().message;
    }
  });
  if (std::string e = host_errors(hosts_, batch); !e.empty()) return Unavailable(e);
  run_.say("  switched " + join(names(hosts_, batch), ", "));
  return Ok();
}

Status FleetRollout::bake(const std::vector<ServiceResult>& results, const std::vector<size_t>& switched) {
  auto deadline = clock_.steady_now() + env_.ssh.bake;
  if (env_.ssh.bake.count() > 0)
    run_.say("  baking " + join(names(hosts_, switched), ", ") + " for " + format_duration(env_.ssh.bake));
  for (;;) {
    std::vector<std::string> why(switched.size());
    targets::in_parallel(switched.size(), [&](size_t k) { why[k] = check_host(switched[k], results); });
    for (size_t k = 0; k < switched.size(); ++k)
      if (!why[k].empty()) {
        FleetHost& h = hosts_[switched[k]];
        h.state = "failed";
        h.error = why[k];
        return Unavailable(h.name + ": " + why[k]);
      }
    VILLAGER_RETURN_IF_ERROR(check_min_healthy());
    if (clock_.steady_now() >= deadline) return Ok();
    clock_.sleep_for(std::min<std::chrono::milliseconds>(
        kBakePoll, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.steady_now()) +
                       std::chrono::milliseconds(1)));
  }
}

std::string FleetRollout::check_host(size_t i, const std::vector<ServiceResult>& results) {
  auto t = fleet_.host_target(i);
  if (!t) return t.error().message;
  auto slots = (*t)->slots();
  if (!slots) return "unreachable: " + slots.error().message;
  for (const auto& r : results) {
    const targets::SlotInfo* serving = nullptr;
    for (const auto& s : *slots)
      if (s.service == r.service && s.role == targets::SlotRole::kServing) serving = &s;
    if (!serving) return r.service + " has no serving release";
    if (serving->digest != r.digest) return r.service + " serves " + serving->version + ", not " + r.version;
    if (!serving->healthy) return r.service + " " + r.version + " is down (its process exited)";
    if (auto c = hosts_[i].started.find(r.service); c != hosts_[i].started.end() &&
                                                    c->second.digest == r.digest &&
                                                    serving->restarts > c->second.restarts)
      return r.service + " " + r.version + " crashed and was restarted " +
             std::to_string(serving->restarts - c->second.restarts) + " time(s) since it started";
    const config::ServiceConfig* svc = config_.service(r.service);
    if (!svc) continue;
    net::HttpRequest req;
    req.url = (*t)->slot_url(*serving) + svc->health_path;
    req.timeout = kHealthTimeout;
    req.direct = true;
    if (svc->health_needs_key()) {
      std::string line = auth_header_line(*svc);
      if (auto colon = line.find(':'); colon != std::string::npos)
        req.headers.emplace_back(line.substr(0, colon), std::string(trim(line.substr(colon + 1))));
    }
    auto resp = net::http_send(req);
    if (!resp) return r.service + " " + r.version + " health: " + resp.error().message;
    if (std::string bad = net::health_failure(resp->status, resp->body, svc->health_body); !bad.empty())
      return r.service + " " + r.version + " fails its health check (" + svc->health_path + ": " + bad + ")";
  }
  return "";
}

std::string FleetRollout::auth_header_line(const config::ServiceConfig& svc) {
  std::lock_guard lock(auth_mu_);  // host checks run in parallel
  if (auto it = auth_lines_.find(svc.name); it != auth_lines_.end()) return it->second;
  std::string line;
  if (auto resolved = secrets::resolve_for_service(config_.state_dir(), env_.name, svc))
    if (auto it = resolved->values.find(svc.auth_secret); it != resolved->values.end())
      line = svc.auth_header + ": " + it->second.reveal();
  auth_lines_[svc.name] = line;
  return line;
}

Result<std::string> FleetRollout::revert(const std::vector<ServiceResult>& results) {
  std::vector<size_t> touched;
  for (const auto& h : hosts_)
    if (h.touched) touched.push_back(h.index);
  if (touched.empty()) return std::string("no host had started it, so nothing was reverted");
  run_.say("reverting " + join(names(hosts_, touched), ", ") + " in parallel");
  std::vector<std::string> failed(touched.size());
  targets::in_parallel(touched.size(), [&](size_t k) {
    FleetHost& h = hosts_[touched[k]];
    auto t = fleet_.host_target(h.index);
    if (!t) {
      failed[k] = t.error().message;
      return;
    }
    std::vector<std::string> errs;
    for (const auto& r : results) {
      auto prev = h.before.find(r.service);
      if (prev != h.before.end() && prev->second.digest == r.digest) continue;
      // A host whose route never moved only loses its candidate: its release kept serving, warm one too.
      if (h.routed) {
        Status s = prev == h.before.end() ? (*t)->set_weights(r.service, {})
                                          : (*t)->set_weights(r.service, {{prev->second.digest, 100}});
        if (s.ok() && prev != h.before.end()) s = (*t)->promote(r.service, prev->second.digest);
        if (!s.ok()) errs.push_back(r.service + ": " + s.error().message);
      }
      (void)(*t)->stop(r.service, r.digest);  // gone already when it never started
    }
    failed[k] = join(errs, "; ");
  });
  // Verified, not assumed: each host's agent reports the previous release serving and its health answers.
  targets::in_parallel(touched.size(), [&](size_t k) {
    if (!failed[k].empty()) return;
    FleetHost& h = hosts_[touched[k]];
    std::vector<ServiceResult> back;
    for (const auto& r : results)
      if (auto prev = h.before.find(r.service); prev != h.before.end()) {
        ServiceResult b = r;
        b.digest = prev->second.digest;
        b.version = prev->second.version;
        back.push_back(b);
      }
    failed[k] = check_host(h.index, back);
  });
  std::vector<std::string> bad, good, unrouted;
  for (size_t k = 0; k < touched.size(); ++k) {
    FleetHost& h = hosts_[touched[k]];
    if (failed[k].empty()) {
      if (h.routed) {
        h.state = "reverted";
        good.push_back(h.name);
      } else {
        unrouted.push_back(h.name);
      }
      continue;
    }
    // What it was last seen running: the candidate once its route had moved, else what it served.
    std::string last;
    if (h.routed)
      for (const auto& r : results) last += (last.empty() ? "" : ", ") + r.service + " " + r.version;
    else
      last = served(h.before);
    bad.push_back(h.name + " (" + failed[k] + (last.empty() ? "" : "; last known serving: " + last) + ")");
  }
  std::string to;
  for (const auto& r : results)
    if (!r.from_version.empty()) to += (to.empty() ? "" : ", ") + r.service + " " + r.from_version;
  std::vector<std::string> parts;
  if (!good.empty())
    parts.push_back("reverted " + join(good, ", ") + (to.empty() ? "" : " to " + to) +
                    ", each verified serving it");
  if (!unrouted.empty())
    parts.push_back("stopped the candidate on " + join(unrouted, ", ") + " (its route never moved)");
  std::string summary = join(parts, "; ");
  if (!bad.empty())
    return Unavailable((summary.empty() ? "" : summary + "; ") + "COULD NOT REVERT " + join(bad, "; ") +
                       ": run `villager rollback " + env_.name + "` when they answer");
  return summary;
}

Status FleetRollout::return_to(const ServiceResult& to, int64_t& swap_ms, bool& warm) {
  std::vector<size_t> live;
  for (const auto& h : hosts_)
    if (h.state != "unreachable") live.push_back(h.index);
  std::vector<int64_t> took(live.size(), 0);
  std::vector<int> cold(live.size(), 0);
  std::vector<std::string> failed(live.size());
  auto t0 = clock_.steady_now();
  targets::in_parallel(live.size(), [&](size_t k) {
    FleetHost& h = hosts_[live[k]];
    auto t = fleet_.host_target(h.index);
    if (!t) {
      failed[k] = t.error().message;
      return;
    }
    auto prev = h.before.find(to.service);
    if (prev != h.before.end() && prev->second.digest == to.digest) return;  // already there
    auto slots = (*t)->slots();
    if (!slots) {
      failed[k] = slots.error().message;
      return;
    }
    bool has = std::any_of(slots->begin(), slots->end(), [&](const targets::SlotInfo& sl) {
      return sl.service == to.service && sl.digest == to.digest &&
             (sl.role == targets::SlotRole::kWarm || sl.role == targets::SlotRole::kServing);
    });
    Status s = Ok();
    if (!has) {
      cold[k] = 1;
      auto started = (*t)->start_candidate(to.service, to.digest, to.version);
      if (!started) s = started.error().context("starting " + to.version + " (not warm here)");
    }
    if (s.ok()) s = (*t)->set_weights(to.service, {{to.digest, 100}});
    took[k] = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - t0).count();
    if (s.ok()) s = (*t)->promote(to.service, to.digest);
    if (s.ok()) {
      h.routed = true;
      // What this host served is what went wrong: stopped, not kept warm.
      if (prev != h.before.end()) (void)(*t)->stop(to.service, prev->second.digest);
    }
    if (!s.ok()) failed[k] = s.error().message;
  });
  targets::in_parallel(live.size(), [&](size_t k) {
    if (failed[k].empty()) failed[k] = check_host(live[k], {to});
  });
  swap_ms = took.empty() ? 0 : *std::max_element(took.begin(), took.end());
  warm = std::count(cold.begin(), cold.end(), 1) == 0;
  std::vector<std::string> bad;
  for (size_t k = 0; k < live.size(); ++k) {
    FleetHost& h = hosts_[live[k]];
    h.state = failed[k].empty() ? "reverted" : "failed";
    h.error = failed[k];
    if (!failed[k].empty()) bad.push_back(h.name + ": " + failed[k]);
  }
  for (const auto& h : hosts_)
    if (h.state == "unreachable") bad.push_back(h.name + ": " + h.error);
  if (!bad.empty()) return Unavailable(join(bad, "; "));
  return Ok();
}

std::map<std::string, std::string> FleetRollout::note_mixed(const std::vector<std::string>& services) {
  std::vector<std::map<std::string, std::string>> now(hosts_.size());  // host -> service -> version
  std::vector<bool> lost(hosts_.size(), false);
  targets::in_parallel(hosts_.size(), [&](size_t i) {
    auto t = fleet_.host_target(i);
    auto slots = t ? (*t)->slots() : Result<std::vector<targets::SlotInfo>>(t.error());
    if (!slots) {
      lost[i] = true;
      for (const auto& [service, slot] : hosts_[i].before) now[i][service] = slot.version;
      return;
    }
    for (const auto& s : *slots)
      if (s.role == targets::SlotRole::kServing) now[i][s.service] = s.version;
  });
  std::map<std::string, std::string> mixed;
  for (const auto& service : services) {
    std::map<std::string, std::vector<std::string>> on;  // version -> hosts
    bool unreachable = false;
    for (size_t i = 0; i < hosts_.size(); ++i) {
      auto it = now[i].find(service);
      std::string version = it == now[i].end() ? "nothing known" : it->second;
      on[version].push_back(hosts_[i].name + (lost[i] ? " (unreachable)" : ""));
      unreachable |= lost[i];
    }
    std::vector<std::string> parts;
    for (const auto& [version, hosts] : on) parts.push_back(version + " on " + join(hosts, ", "));
    bool is_mixed = on.size() > 1 || unreachable;
    if (is_mixed) mixed[service] = join(parts, "; ");

    auto events = store::list_alarm_events(run_.store(), env_.name, service);
    std::string was = "ok";
    if (events)
      for (const auto& e : *events)
        if (e.alarm == kFleetMixedAlarm) was = e.to_state;
    if (is_mixed == (was == "firing")) continue;
    store::AlarmEventRow row;
    row.environment = env_.name;
    row.service = service;
    row.alarm = kFleetMixedAlarm;
    row.metric = "releases_served";
    row.severity = "warning";
    row.from_state = was;
    row.to_state = is_mixed ? "firing" : "resolved";
    row.value = static_cast<double>(on.size());
    row.threshold = 1;
    (void)store::insert_alarm_event(run_.store(), row);
    if (is_mixed)
      run_.say("ALARM " + std::string(kFleetMixedAlarm) + ": " + service +
               (on.size() > 1 ? " is left MIXED after this change: "
                              : " cannot be checked on every host after this change: ") +
               mixed[service] + "; `villager deploy " + env_.name + "` brings every host to one release");
    else
      run_.say(std::string(kFleetMixedAlarm) + " resolved: every host serves " + service + " " +
               on.begin()->first);
  }
  return mixed;
}

json FleetRollout::hosts_json() const {
  json out = json::array();
  for (const auto& h : hosts_) {
    json before = json::object();
    for (const auto& [service, slot] : h.before) before[service] = slot.version;
    json j{{"host", h.name}, {"state", h.state}, {"before", before}};
    if (!h.error.empty()) j["error"] = h.error;
    out.push_back(j);
  }
  return out;
}

}  // namespace villager::pipeline
