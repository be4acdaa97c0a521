#include "front/front.h"

#include <algorithm>

#include "net/health.h"
#include "net/http.h"
#include "proxy/proxy.h"
#include "proxy/route_table.h"

namespace villager::front {

using json = nlohmann::json;

namespace {

std::string member_url(const Member& m, const std::string& path) {
  return "http://" + config::HostPort{m.address, m.port}.to_string() + path;
}

// "" when the host answered its health path as healthy; otherwise why not.
std::string check_member(const ServiceSpec& s, const Member& m, config::Millis timeout) {
  net::HttpRequest req;
  req.url = member_url(m, s.health_path);
  req.headers = s.headers;
  req.timeout = timeout;
  req.direct = true;
  req.truncate_body = true;
  req.max_body = 64 * 1024;
  auto r = net::http_send(req);
  if (!r) return r.error().message;
  return net::health_failure(r->status, r->body, s.health_body);
}

}  // namespace

Result<std::vector<ServiceSpec>> front_services(const config::Config& config,
                                                const config::EnvironmentConfig& env,
                                                const SecretLookup& secret) {
  if (env.target != config::TargetKind::kSsh || !env.ssh.front.configured())
    return InvalidArgument("environment '" + env.name + "' has no front: add [environments." + env.name +
                           ".front] with listen = { SERVICE = \"HOST:PORT\" } (docs/targets/ssh.md)");
  std::vector<ServiceSpec> out;
  for (const auto& [svc, listen] : env.ssh.front.listen) {
    const config::ServiceConfig* sc = config.service(svc);
    if (!sc) return InvalidArgument("front of " + env.name + ": no service '" + svc + "'");
    ServiceSpec s;
    s.service = svc;
    s.listen = listen;
    s.health_path = sc->health_path;
    s.health_body = sc->health_body;
    if (sc->health_needs_key()) {
      auto key = secret(sc->auth_secret);
      if (!key)
        return FailedPrecondition("front of " + env.name + ": " + svc + "'s health path " + sc->health_path +
                                  " needs its key, but secret " + sc->auth_secret + " is not set for " +
                                  env.name + " (villager secrets set " + env.name + " " + sc->auth_secret +
                                  ")");
      s.headers.emplace_back(sc->auth_header, *key);
    }
    for (const auto& h : env.ssh.hosts) s.members.push_back({h.name, h.address, env.listen.at(svc).port});
    out.push_back(std::move(s));
  }
  return out;
}

struct Front::ServiceRun {
  struct MemberState {
    Member member;
    bool in_pool = false;
    int passes = 0;  // in a row
    int fails = 0;   // in a row
    std::string why;
    std::atomic<uint64_t> requests{0};
  };
  ServiceSpec spec;
  std::vector<std::unique_ptr<MemberState>> members;
  std::map<std::string, MemberState*, std::less<>> by_host;  // read-only once built (the observer reads it)
  std::atomic<uint64_t> unrouted{0};                         // answered by the front itself (503, 400)
  proxy::Routes routes;
  std::unique_ptr<proxy::Proxy> proxy;

  // Every member at weight 100 if in the pool, else 0 (kept in the table, no new requests).
  Status publish() {
    proxy::RouteTable t;
    for (const auto& m : members)
      t.upstreams.push_back({m->member.host, m->member.address, m->member.port, m->in_pool ? 100 : 0});
    return routes.store(std::move(t));
  }
};

Front::Front(std::vector<ServiceSpec> services, Checks checks,
             std::function<void(const MemberChange&)> on_change)
    : checks_(checks), on_change_(std::move(on_change)) {
  for (auto& spec : services) {
    auto run = std::make_unique<ServiceRun>();
    run->spec = std::move(spec);
    for (const auto& m : run->spec.members) {
      auto ms = std::make_unique<ServiceRun::MemberState>();
      ms->member = m;
      run->by_host[m.host] = ms.get();
      run->members.push_back(std::move(ms));
    }
    services_.push_back(std::move(run));
  }
}

Front::~Front() {
  stop();
}

void Front::check_round() {
  struct Job {
    ServiceRun* run;
    ServiceRun::MemberState* m;
    std::string why;
  };
  std::vector<Job> jobs;
  for (auto& s : services_)
    for (auto& m : s->members) jobs.push_back({s.get(), m.get(), ""});
  std::vector<std::thread> threads;
  threads.reserve(jobs.size());
  for (auto& j : jobs)
    threads.emplace_back([&j, this] { j.why = check_member(j.run->spec, j.m->member, checks_.timeout); });
  for (auto& t : threads) t.join();

  std::vector<MemberChange> changes;
  std::vector<ServiceRun*> republish;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& j : jobs) {
      auto& m = *j.m;
      bool ok = j.why.empty();
      m.passes = ok ? m.passes + 1 : 0;
      m.fails = ok ? 0 : m.fails + 1;
      if (!ok) m.why = j.why;
      bool was = m.in_pool;
      // The first round (before start() binds) decides on one check; later rounds need rise / fall.
      bool first = !j.run->proxy;
      if (!m.in_pool && ok && (first || m.passes >= checks_.rise)) m.in_pool = true;
      if (m.in_pool && !ok && (first || m.fails >= checks_.fall)) m.in_pool = false;
      if (m.in_pool) m.why.clear();
      if (was != m.in_pool || first) {
        changes.push_back({j.run->spec.service, m.member.host, m.in_pool, m.why});
        if (std::find(republish.begin(), republish.end(), j.run) == republish.end())
          republish.push_back(j.run);
      }
    }
    for (auto* run : republish) (void)run->publish();
  }
  for (const auto& c : changes) {
    if (!c.in_pool) {
      for (auto& s : services_)
        if (s->spec.service == c.service && s->proxy) s->proxy->drain(c.host);
    }
    if (on_change_) on_change_(c);
  }
}

Status Front::start() {
  check_round();
  for (auto& s : services_) {
    ServiceRun* run = s.get();
    proxy::ProxyOptions o;
    o.listen = run->spec.listen.to_string();
    o.observer = [run](const proxy::RequestRecord& r) {
      auto it = run->by_host.find(r.release_id);
      if (it != run->by_host.end())
        it->second->requests.fetch_add(1, std::memory_order_relaxed);
      else
        run->unrouted.fetch_add(1, std::memory_order_relaxed);
    };
    // The hosts are the front's own fleet: their X-Forwarded-For is the client the front saw.
    run->proxy = std::make_unique<proxy::Proxy>(std::move(o), run->routes);
    if (Status st = run->proxy->start(); !st.ok()) {
      stop();
      return st.error().context("front for " + run->spec.service);
    }
  }
  checker_ = std::thread([this] { checker(); });
  return Ok();
}

void Front::checker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (wake_.wait_for(lock, checks_.interval, [this] { return stopping_; })) break;
    lock.unlock();
    check_round();
    lock.lock();
  }
}

void Front::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (checker_.joinable()) checker_.join();
  for (auto& s : services_)
    if (s->proxy) s->proxy->stop();
}

json Front::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  json services = json::array();
  for (const auto& s : services_) {
    json members = json::array();
    for (const auto& m : s->members)
      members.push_back({{"host", m->member.host},
                         {"address", config::HostPort{m->member.address, m->member.port}.to_string()},
                         {"in_pool", m->in_pool},
                         {"why", m->why},
                         {"requests", m->requests.load(std::memory_order_relaxed)}});
    services.push_back(
        {{"service", s->spec.service},
         {"listen", s->proxy ? config::HostPort{s->spec.listen.host, s->proxy->port()}.to_string()
                             : s->spec.listen.to_string()},
         {"members", members},
         {"answered_by_front", s->unrouted.load(std::memory_order_relaxed)}});
  }
  return {{"services", services}};
}

}  // namespace villager::front
