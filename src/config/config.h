#pragma once
// villager.toml as typed structs. load_config() is strict: it collects every problem (unknown keys with
// a "did you mean", wrong types, bad durations and addresses, dangling references, clashing listen
// addresses) and fails once with all of them, each as "FILE:LINE:COL: message". docs/config.md
// documents every key.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::config {

using Millis = std::chrono::milliseconds;

struct HostPort {
  std::string host;  // "127.0.0.1", "::1" or a name
  uint16_t port = 0;
  std::string to_string() const;  // "127.0.0.1:8080", "[::1]:8080"
};
// Parses "127.0.0.1:8080" or "[::1]:8080".
Result<HostPort> parse_host_port(const std::string& text);

struct ProjectConfig {
  std::string name;
  std::string version_file;  // relative to the config file's folder
  std::string state_dir = ".villager";
  std::string reviews_dir = "team/villager/roles/devops/reviews";
};

struct HealthCheckConfig {
  Millis interval{1000};
  Millis timeout{5000};
  Millis deadline{30000};
};

// `python_deps = { requirements = "requirements.txt", from = "system" | "wheels/", python = "3.11",
// platform = "manylinux2014_x86_64", target = "python" }` (docs/python.md, "Vendored dependencies"):
// what villager installs into build_dir/target after the build step, offline, and what every shared
// object in the artifact is checked against.
struct PythonDepsConfig {
  std::string requirements;       // relative to the project root
  std::string from;               // "system" (Debian's dist-packages) or a wheel folder
  std::string python;             // "3.11": the CPython the service runs
  std::string platform;           // a pip platform tag; "" = this host
  std::string target = "python";  // the folder inside build_dir villager fills (and empties first)
  bool from_system() const { return from == "system"; }
  // "x86_64" or "aarch64": the platform's, else "" (this host's, which the caller knows).
  std::string arch() const;
  bool musl() const { return platform.starts_with("musllinux"); }
};

struct ServiceConfig {
  std::string name;
  // What gets packaged (relative to the config file's folder) and how a host runs it ("${PORT}" is
  // replaced). Both may be empty for a service only url environments name (checked, never deployed).
  std::string build_dir;
  std::vector<std::string> command;
  // The build step (docs/python.md): argv run in the project root before packaging, in a clean
  // environment (PATH, HOME, LANG=C.UTF-8, SOURCE_DATE_EPOCH, PYTHONDONTWRITEBYTECODE=1 only); its
  // output tail, exit code, duration and the versions `build_tools` print go in the release manifest.
  std::vector<std::string> build;
  std::vector<std::string> build_tools;  // command lines ("python3 --version"), split on spaces, no shell
  Millis build_timeout{600000};
  std::optional<PythonDepsConfig> python_deps;
  std::string health_path = "/info/health";
  std::string health_body = "\"status\":\"ok\"";  // expected substring of the health answer
  std::vector<std::string> secrets;               // secret names injected into the process environment
  std::map<std::string, std::string> env;         // plain (non-secret) environment variables
  std::vector<std::string> frontend_pages;
  std::vector<std::string> protected_paths;
  std::string auth_header;  // header carrying the API key, e.g. "x-api-key"
  std::string auth_secret;  // name of the secret holding the API key value
  HealthCheckConfig health;
  Millis drain_timeout{10000};
  // Uptime probes (docs/monitor.md, "Probes"): the path, whether the API key goes with it, and the
  // statuses that count as up (empty: 200 + health_body when that is set, else any status below 500).
  std::string probe_path;           // "" = health_path
  std::string probe_auth = "auto";  // auto (when the probe path is protected) | always | never
  std::vector<int> probe_expect;

  const std::string& probe_target_path() const { return probe_path.empty() ? health_path : probe_path; }
  bool probe_sends_key() const;
  // The health path is among protected_paths and the service has a key: a health check must send it.
  bool health_needs_key() const;
};

enum class Strategy { kAllAtOnce, kCanary };

// One request of the synthetic canary traffic: "GET /info/health" or "HEAD /".
struct SyntheticRequest {
  std::string method;  // GET | HEAD
  std::string path;    // starts with "/"; may hold a query
};

// `canary_synthetic = { requests = [...], rate = 20, max_requests = 500 }`: requests villager sends to a
// canary step's candidate slot when real traffic is too thin to reach canary_min_samples (docs/monitor.md,
// "Synthetic canary traffic"). Off when `requests` is empty (the default).
struct CanarySyntheticConfig {
  static constexpr double kMinRate = 0.1;
  static constexpr double kMaxRate = 1000;
  static constexpr size_t kMaxRequests = 10'000;
  std::vector<SyntheticRequest> requests;
  double rate = 20;           // requests per second at most, one at a time
  size_t max_requests = 500;  // per canary step and service
  bool enabled() const { return !requests.empty(); }
};

// target = "lambda": each service is one Lambda function whose alias serves traffic (docs/targets/lambda.md).
struct LambdaConfig {
  std::map<std::string, std::string> functions;  // service -> function name
  std::string alias = "live";
  std::string region = "eu-west-2";
  std::string endpoint;   // AWS endpoint override (a local emulator); default $AWS_ENDPOINT_URL or AWS
  std::string s3_bucket;  // for packages over the direct-upload limit
  std::string s3_key_prefix = "villager/";
  std::string profile;  // ~/.aws/credentials profile; default $AWS_PROFILE or "default"
  std::vector<std::string>
      cors_origins;  // Function URL CORS AllowOrigins; default [smoke].cors_allowed_origins
  // Replaces the Function URL Lambda reports, "{function}" and "{qualifier}" filled in; for emulators
  // that serve function URLs elsewhere (the tests' harness). Empty: use the real Function URL.
  std::string url_template;
  // Where the service keeps transfers, read by the smoke suite's plaintext scan (ListObjectsV2 and
  // GetObject under storage_prefix). Empty bucket: S3 is not scanned (the log groups still are).
  std::string storage_bucket;
  std::string storage_prefix;  // default: the profile's ("transfers/" for sgraph-send), else the whole bucket
  // Function configuration applied on every deploy. Each published version keeps its own, so a rollback
  // brings the old configuration back with the old code. Unset (empty, 0): the function keeps its own.
  std::map<std::string, std::string> handlers;     // service -> "package.module.function"
  std::string runtime;                             // "python3.12"
  std::string architecture;                        // "x86_64" | "arm64"
  int memory_mb = 0;                               // `memory`, 128..10240
  Millis timeout{0};                               // whole seconds, 1 s..15 min
  std::optional<std::vector<std::string>> layers;  // layer version ARNs, at most 5; [] removes them
  // On the alias, put on every promote; -1: not managed; 0: removed.
  int provisioned_concurrency = -1;
  bool cors_allow_credentials = false;  // Function URL CORS AllowCredentials
  // Lambda functions invoked with the candidate version before any traffic (pre) and after it takes all
  // traffic (post); one that does not answer {"status": "Succeeded"} fails the deploy
  // (docs/targets/lambda.md).
  std::string pre_traffic_hook;
  std::string post_traffic_hook;
};

// target = "ssh": a fleet of Linux hosts reached over OpenSSH, each running villager's agent
// (docs/targets/ssh.md). `listen` gives each service's address on every host.
struct SshHost {
  std::string name;     // "web1"; default host<N> in file order
  std::string address;  // what ssh connects to, and where the host's listeners are reached
  int port = 22;
  std::string user;                           // "" = the ssh default (the local user)
  std::string root;                           // "" = the environment's remote_root
  std::map<std::string, std::string> labels;  // shown in status; not interpreted
};

// A count of hosts or a percentage of the fleet ("2" or "25%").
struct HostCount {
  int value = 0;
  bool percent = false;
  // Hosts this means in a fleet of `fleet` hosts: a percentage rounds up, at least 1 when value > 0.
  int of(int fleet) const;
};

// `[environments.NAME.front]` of an ssh environment: villager's own proxy in front of the fleet
// (`villager front run ENV`), load-balancing each service over every host's listener with health-checked
// membership, and what `villager front haproxy ENV` writes for HAProxy (docs/targets/ssh.md, "The front").
struct FrontConfig {
  std::map<std::string, HostPort> listen;  // service -> where the front serves it; empty = no front
  Millis check_interval{1000};             // each host's health path, per service, this often
  Millis check_timeout{1000};
  int fall = 2;  // failed checks in a row that take a host out of the pool
  int rise = 2;  // passed checks in a row that bring it back
  bool configured() const { return !listen.empty(); }
};

struct SshConfig {
  std::vector<SshHost> hosts;
  FrontConfig front;
  std::filesystem::path identity;               // private key file; "" = the ssh agent ($SSH_AUTH_SOCK)
  std::filesystem::path known_hosts;            // "" = <state>/ssh/<env>.known_hosts (villager hosts trust)
  std::string remote_root = ".villager-fleet";  // relative: in the remote user's home
  int agent_port = 7170;                        // the host agent's control API, on the host's loopback
  HostCount batch{1, false};                    // hosts switched at once
  Millis batch_wait{0};                         // pause between batches
  Millis bake{5000};                            // each batch is watched this long before the next
  HostCount min_healthy{100, true};             // hosts that must stay healthy through a rollout
  Millis connect_timeout{5000};
  // How long each host's SSH master outlives the command that opened it, so the next command (a
  // rollback after a deploy) needs no login; 0 = off (docs/targets/ssh.md, "Connections").
  Millis persist{60000};
};

// The engine an environment deploys with (`target = "..."`), parsed once; every decision that depends
// on it compares this, and messages spell it with target_kind_name.
enum class TargetKind {
  kLocal,   // "local": release processes and the edge on this host, driven through the agent
  kUrl,     // "url": a service someone else deploys; villager only smoke-tests and monitors it
  kLambda,  // "lambda": one AWS Lambda function per service, traffic on its alias
  kSsh,     // "ssh": a fleet of hosts over SSH, each running the agent, switched in batches
};
std::string_view target_kind_name(TargetKind kind);  // "local"
std::optional<TargetKind> parse_target_kind(std::string_view name);
const std::vector<std::string>& target_kind_names();  // every spelling, in declaration order

struct EnvironmentConfig {
  std::string name;
  TargetKind target = TargetKind::kLocal;
  std::map<std::string, HostPort> listen;   // service -> public listen address (local)
  std::map<std::string, std::string> urls;  // service -> base URL (url)
  std::vector<std::string> requires_roles;  // approvals needed before deploy
  std::vector<std::string> waiver_roles;    // roles whose signed waivers a smoke finding here needs
  Strategy strategy = Strategy::kAllAtOnce;
  std::vector<int> steps;  // canary weights in percent, ending at 100
  Millis step_interval{30000};
  Millis watch{30 * 60 * 1000};
  bool rehearse = false;  // default: true when requires_roles is non-empty
  Millis probe_interval{5000};
  // Canary analysis (docs/monitor.md, "Canary analysis"): samples per side before any verdict, how long
  // a step may wait for them, what an inconclusive step at its deadline does, and the gross-breach rules
  // that fail a step without the U test.
  size_t canary_min_samples = 50;
  Millis max_step_duration{0};  // 0 = 3 x step_interval
  std::string on_inconclusive;  // rollback | hold | promote; "" = rollback when the environment is gated
  size_t canary_gross_5xx = 10;
  double canary_gross_latency_ratio = 4;  // candidate p50 over this many times its limit fails; 0 = off
  // The judge's limits and significance (monitor::CanaryPolicy's defaults): candidate pNN may be up to
  // this ratio of the baseline's (plus 25 ms), its 5xx rate this much (a fraction) above; alpha is the
  // chance a release as good as the one serving fails a step.
  double canary_max_latency_ratio = 1.5;
  double canary_max_error_increase = 0.01;
  double canary_alpha = 0.05;
  CanarySyntheticConfig canary_synthetic;  // off by default
  // service -> the name it is reached as (the URL's host: Host header, SNI, the name its certificate
  // must hold); villager's own requests still connect to the listen address. Local targets only; a
  // service without one is reached as its listen host.
  std::map<std::string, std::string> public_names;
  LambdaConfig lambda;  // target "lambda" only
  SshConfig ssh;        // target "ssh" only

  // Whether this environment serves `service`: a listen address (local), a URL (url) or a function
  // (lambda).
  bool serves(const std::string& service) const {
    return listen.count(service) || urls.count(service) || lambda.functions.count(service);
  }
  Millis step_deadline() const { return max_step_duration.count() ? max_step_duration : 3 * step_interval; }
  bool promote_inconclusive() const {
    return on_inconclusive.empty() ? requires_roles.empty() && name != "production"
                                   : on_inconclusive == "promote";
  }
  // An inconclusive step at its deadline keeps the traffic where it is and ends the deploy held, for an
  // operator to promote or roll back.
  bool hold_inconclusive() const { return on_inconclusive == "hold"; }
};

// One declarative check, `[[smoke.check]]`: a request and what its answer must satisfy. Strings in
// path, headers, body and expectations may hold ${VERSION}, ${secret:NAME} and ${CAPTURED} variables.
struct SmokeCheckConfig {
  std::string name;
  std::string service;  // empty: every target service
  std::string method = "GET";
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int retries = 0;  // extra attempts when the expectations fail
  Millis retry_interval{500};
  Millis timeout{10000};
  // Expectations; empty ones are not checked.
  std::vector<int> status;  // any of these
  std::map<std::string, std::string> headers_equal;
  std::map<std::string, std::string> headers_contain;
  std::vector<std::string> headers_absent;
  std::vector<std::string> body_contains;
  std::vector<std::string> body_regex;
  std::map<std::string, std::string> json_equal;  // dotted path -> expected value as JSON text
  std::vector<std::string> json_exists;           // dotted paths ("transfer_id", "tokens.0")
  std::optional<Millis> max_duration;
  // Variables set from the answer for later checks: name -> "json:PATH" | "header:NAME" | "body".
  std::map<std::string, std::string> capture;
};

// One `[[smoke.browser.step]]`: what the browser check does next on the page, in file order
// (docs/smoke.md, "browser"). `never_sent` names what no request the page sent may carry; every such
// step is checked against all requests once the steps have run (or one failed).
struct BrowserStep {
  enum class Action {
    kFill,       // selector, value: types the value (${secret:NAME} allowed) into the element
    kUpload,     // selector: the file input gets a file holding a random marker
    kClick,      // selector
    kWaitFor,    // selector, capture: waits for the element; capture = "href" also waits for that attribute
    kDownload,   // selector: opens the captured link, clicks the control; the saved file must be the upload
    kNeverSent,  // value: "marker" (the upload's), "fragment_key" (of the captured link) or a literal
  };
  Action action = Action::kClick;
  std::string selector;
  std::string value;
  std::string capture;  // wait_for: the attribute kept for download / fragment_key ("href"); "" = none
  // What a failure says it expected; "" = worded from the action (profiles word their own flows).
  std::string expect;
};
std::string_view browser_action_name(BrowserStep::Action a);  // "wait_for"
const std::vector<std::string>& browser_action_names();

// [smoke.browser]: a page driven in headless Chromium by declared steps. With profile = "sgraph-send"
// and no steps, fill/file_input/submit/result/download describe SGraph Send's upload flow and the
// profile turns them into its steps (sgraph_send::upload_flow_steps, smoke/sgraph_send/profile.h).
struct SmokeBrowserConfig {
  std::string page;                // path on the service; empty: [smoke.browser] absent, the check is skipped
  std::string service;             // default: the profile's service (sgraph-send: the transfers service)
  std::vector<BrowserStep> steps;  // [[smoke.browser.step]], in file order
  std::map<std::string, std::string> fill;  // sgraph-send flow: CSS selector -> value; ${secret:NAME} allowed
  std::string file_input = "input[type=file]";
  std::string submit = "button[type=submit]";
  std::string result;    // sgraph-send flow: the link that appears when the upload is done
  std::string download;  // sgraph-send flow, optional: the result page's control that downloads and decrypts
  Millis timeout{30000};
  std::string chromium = "chromium";  // the browser: a name on PATH or a path
};

// The product profile a config opts into (`profile = "..."`), parsed once: what the smoke suite knows
// beyond its generic checks. kSgraphSend brings SGraph Send's access token, transfers API, meta.json
// rules and upload flow ([smoke.sgraph_send]); kNone uses no x-sgraph-* header and no transfers path.
enum class Profile { kNone, kSgraphSend };
std::string_view profile_name(Profile p);  // "sgraph-send"
std::optional<Profile> parse_profile(std::string_view name);
const std::vector<std::string>& profile_names();  // every spelling, in declaration order

// [smoke.sgraph_send]: SGraph Send's transfers API, as the profile's checks call it (auth's write
// check, cors's preflight, plaintext's round trip). Set only with profile "sgraph-send", which supplies
// the defaults (config/profile.cc); the same keys directly in [smoke] still work, deprecated.
struct SgraphSendConfig {
  std::string access_token_header;  // "x-sgraph-access-token"
  std::string access_token_secret;  // "SGRAPH_SEND__ACCESS_TOKEN"
  // The app's paths: unset means chosen by `preset` for the app's version (docs/smoke.md, "Presets");
  // write_path "" turns the write check off.
  std::optional<std::string> write_path;
  std::optional<std::string> transfers_path;  // create|upload/ID|complete/ID|download/ID below it
  std::string preset;                         // "sgraph-send" | "none" (then the paths must be set)
  std::string app_version;                    // pins the version the preset reads; "" = discover
  std::vector<std::string> meta_fields;       // allowed meta.json keys; empty: the profile's set
};

struct SmokeConfig {
  std::vector<std::string> cors_allowed_origins;
  std::string cors_foreign_origin = "https://evil.example";
  std::vector<std::string> storage;  // folders/files scanned by the plaintext check
  std::vector<std::string> logs;
  int auth_status = 401;
  Millis health_timeout{5000};
  Millis health_deadline{30000};
  Millis health_interval{500};
  std::map<std::string, std::string> frontend_text;  // page -> text the page must contain
  int max_redirects = 5;                             // same-origin hops the frontend check follows
  std::vector<std::string> skip;                     // checks no run of the suite includes
  std::vector<SmokeCheckConfig> checks;              // [[smoke.check]], in file order
  SmokeBrowserConfig browser;                        // [smoke.browser]
  SgraphSendConfig sgraph_send;                      // [smoke.sgraph_send]: profile "sgraph-send" only
};

struct AlarmConfig {
  std::string name;
  std::string metric;                // error_rate | p50 | p90 | p99 | errors_5xx | availability | restarts
  std::string comparison = "above";  // "above" | "below"
  double threshold = 0;
  Millis window{60000};
  int consecutive = 1;
  std::string severity = "critical";  // critical | warning | info
  std::string service;                // empty: every service
};

struct MonitorConfig {
  std::vector<AlarmConfig> alarms;
};

// How a channel delivers (`type = "..."`), parsed once.
enum class ChannelType {
  kWebhook,       // POST of the message JSON
  kCommand,       // a program run with the JSON on stdin
  kFile,          // one JSON line appended
  kAlertmanager,  // Alertmanager API v2, alerts only
};
std::string_view channel_type_name(ChannelType type);  // "webhook"
std::optional<ChannelType> parse_channel_type(std::string_view name);
const std::vector<std::string>& channel_type_names();

// [[notify]]: a channel for pipeline events and alerts (docs/notify.md). The deprecated [[alert]] entries
// are read into the same struct with events = ["alert"].
struct NotifyConfig {
  ChannelType type = ChannelType::kWebhook;
  std::string url;
  std::vector<std::string> command;
  std::string path;
  std::vector<std::string> events;  // empty: every pipeline event kind; alerts only when "alert" is named
  std::vector<std::string> environments;  // empty: every environment
  Millis timeout{5000};                   // per send, and the most a CLI run waits for it at exit

  bool takes_alerts() const;           // "alert" is among its events: the agent sends it alerts
  bool takes_pipeline_events() const;  // not alertmanager, and no events or one besides "alert"
};

struct SignerConfig {
  std::string role;
  std::string name;
  std::string public_key;  // "ed25519:<base64>"
};

// [gate]: release-gate policy beyond each environment's `requires`.
struct GateConfig {
  std::string override_role = "conductor";  // the role whose approval a break-glass deploy needs
};

// [ci]: what `villager ci github` needs beyond the rest of the file to write the project's workflows
// (docs/ci.md). Empty environment names mean the defaults chosen there.
struct CiConfig {
  std::string dev_branch = "dev";                  // a push here deploys to dev_environment
  std::vector<std::string> release_tags = {"v*"};  // a pushed tag matching one deploys to production
  std::string dev_environment;                     // default: the first local or lambda environment
  std::string production_environment;              // default: see docs/ci.md
  std::string runs_on = "ubuntu-latest";           // test, package and gate jobs
  std::string deploy_runs_on = "self-hosted";      // deploy and rollback jobs: where the state lives
  std::vector<std::string> setup;                  // shell lines that put `villager` on PATH
  std::vector<std::string> test;                   // the project's tests, before packaging
  std::vector<std::string> build;                  // what fills the build_dirs, before packaging
  std::map<std::string, std::string> aws_role;     // lambda environment -> role ARN for OIDC
};

struct AgentConfig {
  HostPort control{"127.0.0.1", 7070};
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024 * 1024;
  // Overload caps, 0 = none: client connections over all listeners, client connections from one IP
  // address, and requests in flight to one release per proxy thread. Over any cap: 503 + Retry-After.
  size_t max_connections = 10000;
  size_t max_connections_per_ip = 0;
  size_t max_inflight_per_release = 1000;
  Millis idle_timeout{60000};
  Millis upstream_timeout{30000};
  // X-Forwarded-* headers a client sent: "drop" (default: anyone can write them) or "append" (the
  // agent sits behind a trusted proxy whose headers it extends).
  std::string forwarded = "drop";
  // HTTPS (docs/proxy.md, "TLS"): certificate files (PEM, leaf then chain) and their keys (mode 0600),
  // paired by position, absolute or relative to villager.toml's folder; the first is the default, SNI picks
  // the others by the names in them. Empty: plain HTTP.
  std::vector<std::filesystem::path> tls_cert;
  std::vector<std::filesystem::path> tls_key;
  // The environments whose listeners serve HTTPS; empty = every local environment.
  std::vector<std::string> tls_environments;
  // The trust root villager's own requests to those listeners check the certificate against (the smoke
  // suite, `villager smoke`, the dashboard's links): a private CA's PEM file. Empty: the system's store.
  std::filesystem::path tls_ca;
  // How often the certificate files are checked for a change (then reloaded, as on SIGHUP); 0 = never.
  Millis tls_reload_interval{2000};
  // A plain listener answering every request 308 to https://<host>:<redirect_https_port><path>.
  std::optional<HostPort> redirect_http;
  int redirect_https_port = 443;
  // Upgraded (WebSocket) connections: closed after this long without a byte either way, and at most
  // upgrade_drain_timeout after a route swap took their release out of traffic.
  Millis upgraded_idle_timeout{600000};
  Millis upgrade_drain_timeout{30000};
};

struct Config {
  std::filesystem::path file;  // absolute path of villager.toml
  std::filesystem::path root;  // its folder: relative paths resolve from here
  ProjectConfig project;
  Profile profile = Profile::kNone;             // `profile`, or inferred from the file when absent
  std::vector<ServiceConfig> services;          // in file order
  std::vector<EnvironmentConfig> environments;  // in file order
  SmokeConfig smoke;
  MonitorConfig monitor;
  std::vector<NotifyConfig> notify;  // [[notify]], then the deprecated [[alert]] entries
  std::vector<SignerConfig> signers;
  AgentConfig agent;
  GateConfig gate;
  CiConfig ci;
  // Located notes on what still works but should change ("villager.toml:40:1: [[alert]] is deprecated:
  // ..."); whoever loads the file prints them.
  std::vector<std::string> warnings;
  // Located notes on keys and habits that still work but are on their way out (a profile inferred, an
  // SGraph Send key directly in [smoke]); `villager config check` prints them, other commands do not.
  std::vector<std::string> deprecations;

  const ServiceConfig* service(const std::string& name) const;
  const EnvironmentConfig* environment(const std::string& name) const;
  // The services `env` serves, in [services] order: the one answer deploy, the gate, the agent and the
  // report share.
  std::vector<std::string> services_of(const EnvironmentConfig& env) const;
  std::filesystem::path state_dir() const;  // absolute
};

// How villager itself reaches one service of an environment at its public address: the URL (scheme,
// public name, port), where to connect instead of resolving that name, and the CA to check an HTTPS
// certificate against. The one answer the smoke suite, `villager load`, `villager status` and the local
// target share.
struct PublicAddress {
  std::string base_url;           // "https://send.example.com:8443", no trailing slash
  std::string connect_to;         // "127.0.0.1:8443", or "" when the URL's host is the address
  std::filesystem::path ca_file;  // HTTPS with [agent] tls_ca; empty: the system store
  bool tls() const { return base_url.rfind("https://", 0) == 0; }
};

// Whether the agent serves `env`'s listeners over HTTPS ([agent] tls_cert, and tls_environments when set).
bool serves_tls(const Config& c, const EnvironmentConfig& env);
// `service`'s public address in a local environment; nullopt when it has no listen address there.
std::optional<PublicAddress> public_address(const Config& c, const EnvironmentConfig& env,
                                            const std::string& service);

// On a fleet host (`villager agent --fleet-host ENV`): the agent serves `env`, a target "ssh" environment
// of `c`, as a local one with its state under `state_dir` and its control API on `control`; every other
// environment is dropped, so the host runs only what its fleet deploys to it.
Status as_fleet_host(Config& c, const std::string& env, const std::filesystem::path& state_dir,
                     const HostPort& control);

// Loads and validates a villager.toml. On failure the error message holds one located problem per line.
Result<Config> load_config(const std::filesystem::path& file);
// Same, from text (for tests); `file` is used in messages and to resolve relative paths.
Result<Config> parse_config(const std::string& text, const std::filesystem::path& file);

// The commented starter files `villager init` writes: "sgraph-send" (the C++ reference service on this
// host) and "sgraph-send-python" (the FastAPI apps, on uvicorn locally and on AWS Lambda).
const std::vector<std::string>& starter_presets();
Result<std::string> starter_config(std::string_view preset = "sgraph-send");

}  // namespace villager::config
