// The engine behind run_load(): Worker = one thread + one io_context + its connections; Connection =
// one keep-alive socket with its schedule. Everything a worker touches is its own (no locks on the hot
// path); the calling thread only reads relaxed atomics for progress and merges results at the end.

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "load/load.h"
#include "load/response_parser.h"

namespace villager::load {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::nanoseconds;

namespace {

// How often a worker looks for requests past their timeout (a sweep, not a timer per request: cheaper).
constexpr std::chrono::milliseconds kSweepInterval{50};
// Pause before reconnecting after a failed connect, so a down target is not hammered in a busy loop.
constexpr std::chrono::milliseconds kConnectRetryDelay{20};
constexpr size_t kReadBufferBytes = 16 * 1024;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

uint64_t micros(Clock::duration d) {
  auto us = duration_cast<microseconds>(d).count();
  return us < 0 ? 0 : static_cast<uint64_t>(us);
}

// What the workers share: read-only settings plus the request cap counter.
struct Shared {
  tcp::endpoint endpoint;
  std::string request;
  bool head = false;
  bool open_model = false;
  Clock::time_point start;
  Clock::time_point deadline;
  Clock::duration timeout;
  uint64_t max_requests = 0;
  mutable std::atomic<uint64_t> started{0};  // requests sent, for the cap
};

class Worker;

class Connection {
 public:
  Connection(Worker& worker, asio::io_context& io, const Shared& shared, nanoseconds interval,
             nanoseconds offset);
  void start() { connect(); }
  void stop();
  // Closes the socket when the in-flight request is older than the timeout.
  void check_timeout(Clock::time_point now);

 private:
  void connect();
  void on_connect(const boost::system::error_code& ec);
  void next();
  void send(Clock::time_point due);
  void read();
  void on_readable();
  void on_complete(Clock::time_point now);
  void reconnect(bool after_error);
  void retry_connect();
  bool claim_request();

  Worker& w_;
  const Shared& shared_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  ResponseParser parser_;
  std::unique_ptr<char[]> buf_;
  nanoseconds interval_;   // open model: time between this connection's requests
  nanoseconds offset_;     // open model: this connection's place in the overall schedule
  uint64_t sequence_ = 0;  // open model: index of the next scheduled request
  Clock::time_point due_;
  Clock::time_point sent_;
  Clock::time_point connect_started_;
  // Bumped whenever the socket is abandoned; a completion carrying an older value is stale.
  uint64_t generation_ = 0;
  bool connecting_ = false;
  bool in_flight_ = false;
  bool done_ = false;
};

class Worker {
 public:
  Worker(const Shared& shared, int connections, int first_index, int total_connections, double rate)
      : io_(1), shared_(shared), deadline_timer_(io_), sweep_timer_(io_) {
    nanoseconds interval{0};
    if (rate > 0) interval = nanoseconds(static_cast<int64_t>(1e9 * total_connections / rate));
    for (int i = 0; i < connections; ++i) {
      // Offsets spread the connections' schedules evenly over one interval.
      nanoseconds offset{interval.count() * (first_index + i) / total_connections};
      conns_.push_back(std::make_unique<Connection>(*this, io_, shared, interval, offset));
    }
  }

  void run() {
    double cpu0 = thread_cpu_seconds();
    auto t0 = Clock::now();
    for (auto& c : conns_) c->start();
    deadline_timer_.expires_at(shared_.deadline);
    deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) stop_all();
    });
    arm_sweep();
    io_.run();
    double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    cpu_ = wall > 0 ? (thread_cpu_seconds() - cpu0) / wall : 0;
  }

  // A connection finished for good (request cap reached): when all have, the worker stops.
  void connection_done() {
    if (++done_ == conns_.size()) stop_all();
  }

  bool stopping() const { return stopping_; }
  // Counts; only touched on this worker's thread, except the relaxed atomics read for progress.
  stats::Histogram latency;
  stats::Histogram uncorrected;
  stats::Histogram send_lag;  // open model: how late timer-driven sends left
  std::array<uint64_t, 600> status_counts{};
  SocketErrors errors;
  uint64_t bytes = 0;
  uint64_t reconnects = 0;
  std::atomic<uint64_t> progress_responses{0};
  std::atomic<uint64_t> progress_errors{0};
  double cpu() const { return cpu_; }

  void count_error(uint64_t SocketErrors::*which) {
    ++(errors.*which);
    progress_errors.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  void arm_sweep() {
    sweep_timer_.expires_after(kSweepInterval);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      auto now = Clock::now();
      for (auto& c : conns_) c->check_timeout(now);
      arm_sweep();
    });
  }

  void stop_all() {
    if (stopping_) return;
    stopping_ = true;
    deadline_timer_.cancel();
    sweep_timer_.cancel();
    for (auto& c : conns_) c->stop();
  }

  asio::io_context io_;
  const Shared& shared_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer sweep_timer_;
  std::vector<std::unique_ptr<Connection>> conns_;
  size_t done_ = 0;
  bool stopping_ = false;
  double cpu_ = 0;
};

Connection::Connection(Worker& worker, asio::io_context& io, const Shared& shared, nanoseconds interval,
                       nanoseconds offset)
    : w_(worker),
      shared_(shared),
      socket_(io),
      timer_(io),
      buf_(new char[kReadBufferBytes]),
      interval_(interval),
      offset_(offset) {}

void Connection::stop() {
  done_ = true;
  ++generation_;
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.close(ignored);
}

void Connection::check_timeout(Clock::time_point now) {
  if (connecting_ && now - connect_started_ >= shared_.timeout) {
    // A connect that hangs (a filtered port, a full accept queue) counts as a connect error.
    w_.count_error(&SocketErrors::connect);
    retry_connect();
    return;
  }
  if (!in_flight_ || now - sent_ < shared_.timeout) return;
  w_.count_error(&SocketErrors::timeout);
  reconnect(/*after_error=*/true);
}

void Connection::connect() {
  if (done_ || w_.stopping()) return;
  connecting_ = true;
  connect_started_ = Clock::now();
  socket_.async_connect(shared_.endpoint, [this, gen = generation_](const boost::system::error_code& ec) {
    if (gen == generation_) on_connect(ec);
  });
}

void Connection::retry_connect() {
  // Pause first, so a down target is not hammered in a busy loop.
  ++generation_;
  connecting_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (done_ || w_.stopping()) return;
  timer_.expires_after(kConnectRetryDelay);
  timer_.async_wait([this](const boost::system::error_code& e) {
    if (!e) connect();
  });
}

void Connection::on_connect(const boost::system::error_code& ec) {
  connecting_ = false;
  if (done_ || w_.stopping()) return;
  if (ec) {
    w_.count_error(&SocketErrors::connect);
    retry_connect();
    return;
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
  next();
}

bool Connection::claim_request() {
  if (shared_.max_requests == 0) return true;
  if (shared_.started.fetch_add(1, std::memory_order_relaxed) < shared_.max_requests) return true;
  stop();
  w_.connection_done();
  return false;
}

void Connection::next() {
  if (done_ || w_.stopping()) return;
  if (!shared_.open_model) {
    send(Clock::now());
    return;
  }
  Clock::time_point due = shared_.start + offset_ + interval_ * static_cast<int64_t>(sequence_);
  ++sequence_;
  if (due <= Clock::now()) {
    send(due);  // behind schedule (a slow response): send at once, the lateness counts as latency
    return;
  }
  timer_.expires_at(due);
  timer_.async_wait([this, due](const boost::system::error_code& ec) {
    if (ec) return;
    // The connection was idle, so any delay past `due` is the generator's (or the machine's), not
    // the server's.
    w_.send_lag.record(micros(Clock::now() - due));
    send(due);
  });
}

void Connection::send(Clock::time_point due) {
  if (done_ || w_.stopping()) return;
  if (!claim_request()) return;
  due_ = due;
  sent_ = Clock::now();
  in_flight_ = true;
  parser_.start(shared_.head);
  // The request is small: one non-blocking write nearly always takes it whole, which saves a reactor
  // round trip. A partial write falls back to an async write of the rest.
  boost::system::error_code ec;
  size_t n = socket_.write_some(asio::buffer(shared_.request), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    n = 0;
    ec.clear();
  }
  if (ec) {
    w_.count_error(&SocketErrors::write);
    reconnect(/*after_error=*/true);
    return;
  }
  if (n < shared_.request.size()) {
    asio::async_write(socket_, asio::buffer(shared_.request.data() + n, shared_.request.size() - n),
                      [this, gen = generation_](const boost::system::error_code& e, size_t) {
                        if (gen != generation_ || !e || done_ || w_.stopping()) return;
                        w_.count_error(&SocketErrors::write);
                        reconnect(/*after_error=*/true);  // the pending read is now stale
                      });
  }
  read();
}

void Connection::read() {
  // Wait for readability, then read without blocking: unlike async_read_some this skips the
  // speculative read that fails with EAGAIN right after every send (one syscall per request).
  socket_.async_wait(tcp::socket::wait_read, [this, gen = generation_](const boost::system::error_code& ec) {
    if (gen != generation_ || done_ || w_.stopping()) return;
    if (ec) {
      w_.count_error(&SocketErrors::read);
      reconnect(/*after_error=*/true);
      return;
    }
    on_readable();
  });
}

void Connection::on_readable() {
  while (true) {
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf_.get(), kReadBufferBytes), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      read();
      return;
    }
    if (ec) {
      if (ec == asio::error::eof && parser_.finish() == ResponseParser::State::kComplete) {
        on_complete(Clock::now());
        reconnect(/*after_error=*/false);
        return;
      }
      w_.count_error(&SocketErrors::read);
      reconnect(/*after_error=*/true);
      return;
    }
    w_.bytes += n;
    size_t consumed = 0;
    auto state = parser_.feed(buf_.get(), n, &consumed);
    if (state == ResponseParser::State::kNeedMore) continue;
    if (state == ResponseParser::State::kError) {
      w_.count_error(&SocketErrors::read);
      reconnect(/*after_error=*/true);
      return;
    }
    // Bytes after the response (consumed < n) were not asked for: one request is in flight at a time.
    on_complete(Clock::now());
    if (!parser_.keep_alive()) {
      reconnect(/*after_error=*/false);
      return;
    }
    next();
    return;
  }
}

void Connection::on_complete(Clock::time_point now) {
  in_flight_ = false;
  int status = parser_.status();
  ++w_.status_counts[static_cast<size_t>(status)];
  w_.uncorrected.record(micros(now - sent_));
  if (shared_.open_model) w_.latency.record(micros(now - due_));
  if (status < 200 || status >= 400) w_.progress_errors.fetch_add(1, std::memory_order_relaxed);
  w_.progress_responses.fetch_add(1, std::memory_order_relaxed);
}

void Connection::reconnect(bool after_error) {
  // A new generation: completions still queued for the old socket are ignored.
  ++generation_;
  in_flight_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (done_ || w_.stopping()) return;
  if (!after_error) ++w_.reconnects;
  connect();
}

Status validate(const LoadOptions& o) {
  if (o.duration <= std::chrono::milliseconds(0)) return InvalidArgument("duration must be positive");
  if (o.duration > kMaxDuration)
    return InvalidArgument("duration " + std::to_string(o.duration.count() / 1000) + "s is over the " +
                           std::to_string(kMaxDuration.count() / 1000) + "s limit");
  if (o.threads < 1 || o.threads > kMaxThreads)
    return InvalidArgument("threads must be between 1 and " + std::to_string(kMaxThreads));
  if (o.connections < o.threads || o.connections > kMaxConnections)
    return InvalidArgument("connections must be at least the number of threads (" +
                           std::to_string(o.threads) + ") and at most " + std::to_string(kMaxConnections));
  if (o.rate < 0 || o.rate > kMaxRate || std::isnan(o.rate))
    return InvalidArgument("rate must be between 0 (closed model) and " + std::to_string(int64_t(kMaxRate)));
  if (o.timeout <= std::chrono::milliseconds(0)) return InvalidArgument("timeout must be positive");
  if (o.method.empty() || o.method.find_first_of(" \r\n") != std::string::npos)
    return InvalidArgument("bad method '" + o.method + "'");
  for (const auto& [name, value] : o.headers)
    if (name.empty() || name.find_first_of(": \r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      return InvalidArgument("bad header '" + name + "'");
  return Ok();
}

// Each connection is a descriptor: raise the soft open-file limit if the run needs more, or refuse it
// up front rather than count thousands of EMFILE "connect errors".
Status ensure_descriptors(int connections) {
  constexpr rlim_t kSpare = 64;  // stdio, epoll, timerfds, the resolver
  rlim_t need = static_cast<rlim_t>(connections) + kSpare;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= need) return Ok();
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need)
    return InvalidArgument(std::to_string(connections) + " connections need " + std::to_string(need) +
                           " open files; the hard limit is " + std::to_string(lim.rlim_max) + " (ulimit -n)");
  lim.rlim_cur = need;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
    return InvalidArgument("cannot raise the open-file limit to " + std::to_string(need));
  return Ok();
}

Result<tcp::endpoint> resolve(const Url& url) {
  asio::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec) return Unavailable("resolving " + url.host + ": " + ec.message());
  for (const auto& r : results)
    if (r.endpoint().address().is_v4()) return r.endpoint();
  if (results.empty()) return Unavailable("resolving " + url.host + ": no address");
  return results.begin()->endpoint();
}

}  // namespace

uint64_t LoadReport::non_2xx_3xx() const {
  uint64_t n = 0;
  for (size_t s = 0; s < status_counts.size(); ++s)
    if (s < 200 || s >= 400) n += status_counts[s];
  return n;
}

double LoadReport::error_rate() const {
  uint64_t attempts = responses + errors.total();
  return attempts ? static_cast<double>(non_2xx_3xx() + errors.total()) / static_cast<double>(attempts) : 0;
}

std::string build_request(const LoadOptions& o) {
  std::string r = o.method + " " + o.url.target + " HTTP/1.1\r\n";
  bool has_host = false, has_length = false;
  for (const auto& [name, value] : o.headers) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    has_host |= lower == "host";
    has_length |= lower == "content-length";
  }
  if (!has_host) r += "Host: " + o.url.authority() + "\r\n";
  for (const auto& [name, value] : o.headers) r += name + ": " + value + "\r\n";
  if (!o.body.empty() && !has_length) r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n";
  r += "\r\n";
  r += o.body;
  return r;
}

Result<LoadReport> run_load(const LoadOptions& o, const std::function<void(const Progress&)>& on_progress) {
  VILLAGER_RETURN_IF_ERROR(validate(o));
  VILLAGER_RETURN_IF_ERROR(ensure_descriptors(o.connections));
  auto endpoint = resolve(o.url);
  if (!endpoint) return endpoint.error();

  Shared shared;
  shared.endpoint = *endpoint;
  shared.request = build_request(o);
  shared.head = o.method == "HEAD";
  shared.open_model = o.rate > 0;
  shared.timeout = o.timeout;
  shared.max_requests = o.max_requests;

  std::vector<std::unique_ptr<Worker>> workers;
  int index = 0;
  for (int t = 0; t < o.threads; ++t) {
    int n = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(shared, n, index, o.connections, o.rate));
    index += n;
  }

  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;  // Guarded by mu.
  shared.start = Clock::now();
  shared.deadline = shared.start + o.duration;
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&, wp = w.get()] {
      wp->run();
      std::lock_guard lock(mu);
      ++finished;
      cv.notify_all();
    });
  {
    std::unique_lock lock(mu);
    while (finished < o.threads) {
      if (cv.wait_for(lock, std::chrono::seconds(1), [&] { return finished == o.threads; })) break;
      if (on_progress) {
        Progress p;
        p.elapsed_s = std::chrono::duration<double>(Clock::now() - shared.start).count();
        for (auto& w : workers) {
          p.responses += w->progress_responses.load(std::memory_order_relaxed);
          p.errors += w->progress_errors.load(std::memory_order_relaxed);
        }
        lock.unlock();
        on_progress(p);
        lock.lock();
      }
    }
  }
  for (auto& t : threads) t.join();
  auto end = Clock::now();

  LoadReport report;
  report.open_model = shared.open_model;
  report.target_rate = o.rate;
  report.threads = o.threads;
  report.connections = o.connections;
  report.duration_s = std::chrono::duration<double>(std::min(end, shared.deadline) - shared.start).count();
  for (auto& w : workers) {
    report.latency.merge(shared.open_model ? w->latency : w->uncorrected);
    report.uncorrected.merge(w->uncorrected);
    report.send_lag.merge(w->send_lag);
    for (size_t s = 0; s < w->status_counts.size(); ++s) {
      report.status_counts[s] += w->status_counts[s];
      report.responses += w->status_counts[s];
    }
    report.errors.connect += w->errors.connect;
    report.errors.read += w->errors.read;
    report.errors.write += w->errors.write;
    report.errors.timeout += w->errors.timeout;
    report.bytes_read += w->bytes;
    report.reconnects += w->reconnects;
    report.generator_cpu = std::max(report.generator_cpu, w->cpu());
  }
  return report;
}

}  // namespace villager::load
