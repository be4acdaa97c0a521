#include <unistd.h>

#include <charconv>
#include <cmath>
#include <iostream>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "load/load.h"
#include "load/report.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager load URL [options]
       villager load ENV --service S [--path P] [--config FILE] [options]

Sends HTTP/1.1 keep-alive requests to URL (http:// only) and reports latency percentiles, throughput,
status codes and socket errors, in wrk's layout (or JSON with --json). The ENV form loads an
environment's public endpoint from villager.toml: a `local` target's listen address of service S (not
one the agent serves over HTTPS: the generator speaks plain HTTP), or a `url` target's URL for S, with
path P (default /).

With --rate the run is an open model: each connection sends on a fixed schedule and latency is measured
from the time a request was due, so a stalled server shows in the percentiles (coordinated-omission
correction, as wrk2); the uncorrected latency, from the actual send, is printed too. Without --rate it is
a closed model, as wrk: each connection sends again as soon as it has its answer.

options:
  -r, --rate N             total requests/sec (open model); omit for the closed model
  -d, --duration D         run length, e.g. 10s, 1m (a bare number is seconds; default 10s, max 1h)
  -c, --connections N      connections to keep open (default 10; at least --threads)
  -t, --threads N          generator threads (default 2)
  -m, --method M           request method (default GET)
  -H, --header 'N: v'      add a request header (repeatable)
      --body FILE          send FILE's contents as the request body
      --timeout T          per-request timeout (default 2s); a late response counts as a timeout error
  -n, --requests N         stop after N requests even if the duration has not passed
      --json               print the JSON report (schema villager.load/v1, see docs/load.md)
      --max-p99 MS         fail (exit 1) when p99 latency exceeds MS milliseconds (corrected in open model)
      --max-error-rate F   fail (exit 1) when (non-2xx/3xx responses + socket errors) / attempts > F
      --service S          ENV form: the service to load
      --path P             ENV form: the request path (default /)
      --config FILE        ENV form: the config file (default: $VILLAGER_CONFIG, else ./villager.toml)

Exit status: 0 ok; 1 a budget was exceeded or no request completed (reason on stderr); 2 usage error.
A progress line is printed on stderr each second when stderr is a terminal.
)";

Result<double> parse_number(const std::string& flag, const std::string& text) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v) || v < 0)
    return InvalidArgument("--" + flag + ": expected a non-negative number, got '" + text + "'");
  return v;
}

Result<int> parse_count(const std::string& flag, const std::string& text) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v <= 0)
    return InvalidArgument("--" + flag + ": expected a positive whole number, got '" + text + "'");
  return v;
}

// wrk accepts "10" as seconds; villager's durations otherwise need units.
Result<std::chrono::milliseconds> parse_load_duration(const std::string& flag, const std::string& text) {
  std::string t = text;
  if (!t.empty() && t.find_first_not_of("0123456789") == std::string::npos) t += "s";
  auto d = parse_duration(t);
  if (!d) return d.error().context("--" + flag);
  return *d;
}

bool looks_like_url(const std::string& word) {
  return word.find("://") != std::string::npos;
}

// The ENV form: the public URL of a service in an environment of villager.toml.
Result<std::string> environment_url(const Args& a, const std::string& env_name) {
  if (!a.has("service"))
    return InvalidArgument("'" + env_name + "' is not a URL; the ENV form needs --service S");
  auto cfg = load_project(a);
  if (!cfg) return InvalidArgument(cfg.error().context(config_path(a)).message);
  const config::EnvironmentConfig* env = cfg->environment(env_name);
  if (!env) {
    std::vector<std::string> names;
    for (const auto& e : cfg->environments) names.push_back(e.name);
    std::string hint = suggest(env_name, names);
    return InvalidArgument("unknown environment '" + env_name + "'" +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  std::string service = a.get("service");
  std::string path = a.get("path", "/");
  if (path.empty() || path[0] != '/') path.insert(path.begin(), '/');
  std::string base;
  if (env->target == config::TargetKind::kLocal) {
    auto a = config::public_address(*cfg, *env, service);
    if (!a)
      return InvalidArgument("environment '" + env_name + "' has no listen address for service '" + service +
                             "'");
    if (a->tls())
      return InvalidArgument(
          "environment '" + env_name + "' serves HTTPS ([agent] tls_environments) and the " +
          "load generator speaks plain HTTP: load a plain environment, such as one for QA");
    base = a->connect_to.empty() ? a->base_url : "http://" + a->connect_to;
  } else if (env->target == config::TargetKind::kUrl) {
    auto it = env->urls.find(service);
    if (it == env->urls.end())
      return InvalidArgument("environment '" + env_name + "' has no URL for service '" + service + "'");
    base = it->second;
  } else {
    return InvalidArgument("environment '" + env_name + "': load through a '" +
                           std::string(config::target_kind_name(env->target)) + "' target is not supported");
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}

Result<load::LoadOptions> options_from(const Args& a) {
  if (a.positionals().size() != 1)
    return InvalidArgument("expected one URL or ENV (see villager load --help)");
  const std::string& what = a.positionals()[0];
  std::string url_text = what;
  if (!looks_like_url(what)) {
    auto env_url = environment_url(a, what);
    if (!env_url) return env_url.error();
    url_text = *env_url;
  } else if (a.has("service") || a.has("path")) {
    return InvalidArgument("--service and --path go with the ENV form, not a URL");
  }
  load::LoadOptions o;
  auto url = load::parse_url(url_text);
  if (!url) return url.error();
  o.url = *url;
  if (a.has("rate")) {
    auto r = parse_number("rate", a.get("rate"));
    if (!r) return r.error();
    if (*r <= 0) return InvalidArgument("--rate must be above 0 (omit it for the closed model)");
    o.rate = *r;
  }
  if (a.has("duration")) {
    auto d = parse_load_duration("duration", a.get("duration"));
    if (!d) return d.error();
    o.duration = *d;
  }
  if (a.has("timeout")) {
    auto d = parse_load_duration("timeout", a.get("timeout"));
    if (!d) return d.error();
    o.timeout = *d;
  }
  if (a.has("connections")) {
    auto c = parse_count("connections", a.get("connections"));
    if (!c) return c.error();
    o.connections = *c;
  }
  if (a.has("threads")) {
    auto t = parse_count("threads", a.get("threads"));
    if (!t) return t.error();
    o.threads = *t;
  }
  if (a.has("requests")) {
    auto n = parse_count("requests", a.get("requests"));
    if (!n) return n.error();
    o.max_requests = static_cast<uint64_t>(*n);
  }
  if (a.has("method")) o.method = a.get("method");
  for (const auto& h : a.get_all("header")) {
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0)
      return InvalidArgument("--header '" + h + "': expected 'Name: value'");
    o.headers.emplace_back(std::string(trim(h.substr(0, colon))), std::string(trim(h.substr(colon + 1))));
  }
  if (a.has("body")) {
    auto body = read_file(a.get("body"));
    if (!body) return InvalidArgument(body.error().context("--body").message);
    o.body = *body;
  }
  return o;
}

int run_load_command(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {{"rate", true, 'r'},
                                 {"duration", true, 'd'},
                                 {"connections", true, 'c'},
                                 {"threads", true, 't'},
                                 {"method", true, 'm'},
                                 {"header", true, 'H'},
                                 {"body", true},
                                 {"timeout", true},
                                 {"requests", true, 'n'},
                                 {"json", false},
                                 {"max-p99", true},
                                 {"max-error-rate", true},
                                 {"service", true},
                                 {"path", true},
                                 // -c is --connections here, as in wrk; the config file is long-only.
                                 {"config", true}});
  if (!args) return report_error(args.error().context("load"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  auto opts = options_from(*args);
  if (!opts) return report_error(opts.error().context("load"), exit_code_for(opts.error()));
  load::Budgets budgets;
  if (args->has("max-p99")) {
    auto v = parse_number("max-p99", args->get("max-p99"));
    if (!v) return report_error(v.error().context("load"), kExitUsage);
    budgets.max_p99_ms = *v;
  }
  if (args->has("max-error-rate")) {
    auto v = parse_number("max-error-rate", args->get("max-error-rate"));
    if (!v || *v > 1)
      return report_error("load: --max-error-rate: expected a fraction between 0 and 1", kExitUsage);
    budgets.max_error_rate = *v;
  }
  bool json = args->has("json");
  bool tty = isatty(STDERR_FILENO) == 1;

  if (!json) std::cout << load::format_banner(*opts) << std::flush;
  std::function<void(const load::Progress&)> progress;
  if (tty)
    progress = [](const load::Progress& p) {
      std::cerr << "\r" << load::format_progress(p) << "\033[K" << std::flush;
    };
  auto report = load::run_load(*opts, progress);
  if (tty) std::cerr << "\r\033[K" << std::flush;
  if (!report)
    return report_error(report.error().context("load " + opts->url.to_string()),
                        exit_code_for(report.error()));

  for (const auto& w : load::warnings(*report)) std::cerr << "villager: warning: " << w << "\n";
  auto failures = load::check_budgets(*report, budgets);
  if (json)
    std::cout << load::format_json(*report, *opts, failures);
  else
    std::cout << load::format_text(*report);
  std::cout << std::flush;
  if (!failures.empty())
    return report_error("load " + opts->url.to_string() + ": " + join(failures, "; "), kExitFailed);
  return kExitOk;
}

}  // namespace

const Command kLoadCommand = {"load", "drive HTTP load at a URL: latency percentiles, open or closed model",
                              kHelp, run_load_command};

}  // namespace villager::cli
