// villager secrets: set, get, list, rm, import and rotate-key on one environment's encrypted secrets file.
// Values are read from stdin or a file, never from the command line, and printed only by `get --reveal`.

#include <unistd.h>

#include <charconv>
#include <iostream>
#include <iterator>

#include "base/fs.h"
#include "base/redact.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "secrets/secrets.h"

namespace villager::cli {

namespace {

constexpr std::string_view kGroupHelp = R"txt(usage: villager secrets SUBCOMMAND ENV ...

Per-environment secrets in <state_dir>/secrets/ENV.enc (meant to be committed): names in clear,
values sealed with XChaCha20-Poly1305, the whole file under a MAC. The key is $VILLAGER_SECRETS_KEY_<ENV>
(base64 of 32 bytes) or <state_dir>/keys/ENV.key (mode 0600, created by the first `set`).

subcommands:
  set ENV NAME [--from-file F]   store a new version (value from stdin, or from F)
  get ENV NAME [--reveal]        show a secret's metadata; --reveal prints the value
  list ENV [--json]              names, versions and update times (never values)
  rm ENV NAME                    mark a secret removed (older versions stay for rollback)
  import ENV FILE                set every KEY=VALUE of a dotenv file, all or nothing
  rotate-key ENV                 re-encrypt everything under a fresh key

Run `villager secrets SUBCOMMAND --help` for details. See docs/secrets.md.
)txt";

constexpr std::string_view kSetHelp = R"txt(usage: villager secrets set ENV NAME [--from-file FILE] [-c FILE]

Stores a new version of secret NAME in environment ENV. The value comes from stdin (one trailing newline
is stripped), or from --from-file FILE (likewise); never from the command line. Setting the value a secret
already has keeps its version. The first `set` of an environment with no key creates
<state_dir>/keys/ENV.key (mode 0600) and says so on stderr.

stdout: "NAME vVERSION" (and "(unchanged)" when the value was the same).
options:
  --from-file FILE    read the value from FILE instead of stdin
  -c, --config FILE   the config file (default: $VILLAGER_CONFIG, else ./villager.toml)
exit: 0 ok, 1 failed (wrong key, damaged file), 2 usage (unknown environment, bad name, empty value).
)txt";

constexpr std::string_view kGetHelp =
    R"txt(usage: villager secrets get ENV NAME [--reveal] [--version N] [-c FILE]

Shows secret NAME of environment ENV: "NAME vVERSION updated UPDATED_AT". With --reveal prints only the
value (followed by a newline) and nothing else. --version N picks an older version.

options:
  --reveal            print the value itself
  --version N         a given version instead of the latest
  -c, --config FILE   the config file
exit: 0 ok, 1 not set, wrong key or damaged file, 2 usage.
)txt";

constexpr std::string_view kListHelp = R"txt(usage: villager secrets list ENV [--json] [--all] [-c FILE]

Lists the current secrets of ENV: name, latest version and update time; never values.
With --all every version is listed, removals included.

options:
  --json              print {"environment": ENV, "secrets": [{"name", "version", "updated_at"}...]}
  --all               every version (adds "removed" to each entry)
  -c, --config FILE   the config file
)txt";

constexpr std::string_view kRmHelp = R"txt(usage: villager secrets rm ENV NAME [-c FILE]

Marks secret NAME removed in ENV by writing a removal as its next version. Older versions stay in the
file so a rollback to a release that used them still works (docs/secrets.md).

stdout: "removed NAME (vVERSION)".
)txt";

constexpr std::string_view kImportHelp = R"txt(usage: villager secrets import ENV FILE [-c FILE]

Sets every KEY=VALUE of dotenv FILE in ENV in one write: blank lines and # comments are skipped, an
`export ` prefix is allowed, values may be bare, 'single-quoted' or "double-quoted" (\n \t \" \\).
A bad line is reported with its line number (never its value) and nothing is written.

stdout: one line per key: "NAME vVERSION new|changed|unchanged".
exit: 0 ok, 1 failed, 2 bad file or usage.
)txt";

constexpr std::string_view kRotateHelp = R"txt(usage: villager secrets rotate-key ENV [-c FILE]

Re-encrypts every secret of ENV, all versions, under a fresh random key, written atomically. With a key
file, the new key replaces <state_dir>/keys/ENV.key and the old one is kept as ENV.key.old (needed only
to read older copies of the file, e.g. from git history; delete it when they no longer matter). With
$VILLAGER_SECRETS_KEY_<ENV>, the new key is written to <state_dir>/keys/ENV.key.new: put its content
in that variable, then delete the file.

stdout: the path of the new key.
)txt";

// Loads the project and checks ENV names one of its environments (exit 2 with a suggestion otherwise).
struct Context {
  config::Config cfg;
  std::string env;
};

Result<Context> load_env(const Args& args, const std::string& env) {
  auto cfg = load_project(args);
  if (!cfg) return InvalidArgument(cfg.error().message);
  if (!cfg->environment(env)) {
    std::vector<std::string> names;
    for (const auto& e : cfg->environments) names.push_back(e.name);
    std::string hint = suggest(env, names);
    return InvalidArgument(
        "unknown environment '" + env + "'" +
        (hint.empty() ? " (environments: " + join(names, ", ") + ")" : " (did you mean '" + hint + "'?)"));
  }
  return Context{std::move(*cfg), env};
}

Result<secrets::SecretStore> open_store(const Context& ctx, bool create_key) {
  auto state = ctx.cfg.state_dir();
  secrets::SecretStore::Options opts;
  opts.create_key = create_key;
  auto store = secrets::SecretStore::open(state, ctx.env, secrets::KeySource::for_env(state, ctx.env), opts);
  if (store && store->key_created())
    std::cerr << "villager: created a new key for " << ctx.env << " at " << store->key_origin()
              << " (mode 0600): back it up and keep it out of git; or use $" << secrets::key_env_var(ctx.env)
              << "\n";
  return store;
}

// Bad input is a usage error (2); everything else (wrong key, damaged file, unreadable key) failed (1).
int fail(const Error& e) {
  return report_error(e, e.code == Code::kInvalidArgument ? kExitUsage : kExitFailed);
}

int run_set(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, FlagSpec{"from-file", true}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kSetHelp);
  const auto& pos = args->positionals();
  if (pos.size() > 2)
    return report_error(
        "secrets set takes ENV NAME only: a value is never taken from the command line (it "
        "would show in ps and shell history); pipe it on stdin or use --from-file",
        kExitUsage);
  if (pos.size() != 2)
    return report_error("usage: villager secrets set ENV NAME [--from-file FILE]", kExitUsage);
  auto ctx = load_env(*args, pos[0]);
  if (!ctx) return report_error(ctx.error(), kExitUsage);
  if (!secrets::valid_secret_name(pos[1]))
    return report_error("'" + pos[1] + "' is not a valid secret name (letters, digits and _)", kExitUsage);
  std::string value;
  if (args->has("from-file")) {
    auto text = read_file(args->get("from-file"));
    if (!text) return report_error(text.error().context("reading --from-file"), kExitUsage);
    value = std::move(*text);
  } else {
    if (::isatty(STDIN_FILENO))
      std::cerr << "villager: reading the value of " << pos[1] << " from stdin (end with Ctrl-D)\n";
    value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  if (ends_with(value, "\r\n"))
    value.resize(value.size() - 2);
  else if (ends_with(value, "\n"))
    value.pop_back();
  register_secret(value);
  auto store = open_store(*ctx, true);
  if (!store) return fail(store.error());
  int before = store->versions().count(pos[1]) ? store->versions().at(pos[1]) : 0;
  auto v = store->set(pos[1], value);
  if (!v) return fail(v.error());
  std::cout << pos[1] << " v" << *v << (*v == before ? " (unchanged)" : "") << "\n";
  return kExitOk;
}

int run_get(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, FlagSpec{"reveal"}, FlagSpec{"version", true}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kGetHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 2) return report_error("usage: villager secrets get ENV NAME [--reveal]", kExitUsage);
  auto ctx = load_env(*args, pos[0]);
  if (!ctx) return report_error(ctx.error(), kExitUsage);
  auto store = open_store(*ctx, false);
  if (!store) return fail(store.error());
  int version = 0;
  if (args->has("version")) {
    std::string text = args->get("version");
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size()) version = 0;
    if (version <= 0) return report_error("--version takes a positive number", kExitUsage);
  }
  auto s = version ? store->get(pos[1], version) : store->get(pos[1]);
  if (!s) return report_error(s.error(), kExitFailed);
  if (args->has("reveal")) {
    std::cout << s->reveal() << "\n";
    return kExitOk;
  }
  for (const auto& i : store->history())
    if (i.name == pos[1] && i.version == (version ? version : store->versions().at(pos[1])))
      std::cout << i.name << " v" << i.version << " updated " << i.updated_at << "\n";
  return kExitOk;
}

int run_list(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, FlagSpec{"json"}, FlagSpec{"all"}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kListHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 1) return report_error("usage: villager secrets list ENV [--json]", kExitUsage);
  auto ctx = load_env(*args, pos[0]);
  if (!ctx) return report_error(ctx.error(), kExitUsage);
  auto store = open_store(*ctx, false);
  if (!store) return fail(store.error());
  bool all = args->has("all");
  auto items = all ? store->history() : store->list();
  if (args->has("json")) {
    std::cout << "{\"environment\": " << quote(ctx->env) << ", \"secrets\": [";
    for (size_t i = 0; i < items.size(); ++i) {
      std::cout << (i ? ", " : "") << "{\"name\": " << quote(items[i].name)
                << ", \"version\": " << items[i].version
                << ", \"updated_at\": " << quote(items[i].updated_at);
      if (all) std::cout << ", \"removed\": " << (items[i].removed ? "true" : "false");
      std::cout << "}";
    }
    std::cout << "]}\n";
    return kExitOk;
  }
  if (items.empty()) {
    std::cerr << "no secrets in " << ctx->env << "\n";
    return kExitOk;
  }
  size_t w = 4;
  for (const auto& i : items) w = std::max(w, i.name.size());
  std::cout << "NAME" << std::string(w - 4 + 2, ' ') << "VERSION  UPDATED\n";
  for (const auto& i : items) {
    std::string v = "v" + std::to_string(i.version);
    std::cout << i.name << std::string(w - i.name.size() + 2, ' ') << v
              << std::string(v.size() < 9 ? 9 - v.size() : 1, ' ') << i.updated_at
              << (i.removed ? "  (removed)" : "") << "\n";
  }
  return kExitOk;
}

int run_rm(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kRmHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 2) return report_error("usage: villager secrets rm ENV NAME", kExitUsage);
  auto ctx = load_env(*args, pos[0]);
  if (!ctx) return report_error(ctx.error(), kExitUsage);
  auto store = open_store(*ctx, false);
  if (!store) return fail(store.error());
  auto v = store->rm(pos[1]);
  if (!v) return fail(v.error());
  std::cout << "removed " << pos[1] << " (v" << *v << ")\n";
  return kExitOk;
}

int run_import(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kImportHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 2) return report_error("usage: villager secrets import ENV FILE", kExitUsage);
  auto ctx = load_env(*args, pos[0]);
  if (!ctx) return report_error(ctx.error(), kExitUsage);
  auto text = read_file(pos[1]);
  if (!text) return report_error(text.error().context("reading " + pos[1]), kExitUsage);
  auto pairs = secrets::parse_dotenv(*text, pos[1]);
  if (!pairs) {
    for (const auto& line : split(pairs.error().message, '\n')) report_error(line, kExitUsage);
    return report_error("importing " + pos[1] + ": nothing was written", kExitUsage);
  }
  for (const auto& [k, v] : *pairs) register_secret(v);
  if (pairs->empty()) return report_error(pos[1] + ": no KEY=VALUE lines", kExitUsage);
  auto store = open_store(*ctx, true);
  if (!store) return fail(store.error());
  auto outcomes = store->set_many(*pairs);
  if (!outcomes) return fail(outcomes.error().context("importing " + pos[1] + " (nothing was written)"));
  for (const auto& o : *outcomes)
    std::cout << o.name << " v" << o.version << " "
              << (o.kind == secrets::SetOutcome::kNew       ? "new"
                  : o.kind == secrets::SetOutcome::kChanged ? "changed"
                                                            : "unchanged")
              << "\n";
  return kExitOk;
}

int run_rotate(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kRotateHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 1) return report_error("usage: villager secrets rotate-key ENV", kExitUsage);
  auto ctx = load_env(*args, pos[0]);
  if (!ctx) return report_error(ctx.error(), kExitUsage);
  auto store = open_store(*ctx, false);
  if (!store) return fail(store.error());
  bool from_env = store->key_origin() == secrets::key_env_var(ctx->env);
  auto where = store->rotate_key();
  if (!where) return fail(where.error());
  std::cout << where->string() << "\n";
  if (from_env)
    std::cerr << "villager: " << ctx->env << " is now encrypted with the key in " << where->string()
              << ": set $" << secrets::key_env_var(ctx->env) << " to its content, then delete the file\n";
  else
    std::cerr << "villager: rotated the key of " << ctx->env << "; the old key is kept as " << where->string()
              << ".old\n";
  return kExitOk;
}

int run_secrets(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") return print_help(kGroupHelp);
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  const std::string& sub = argv[0];
  if (sub == "set") return run_set(rest);
  if (sub == "get") return run_get(rest);
  if (sub == "list") return run_list(rest);
  if (sub == "rm") return run_rm(rest);
  if (sub == "import") return run_import(rest);
  if (sub == "rotate-key") return run_rotate(rest);
  std::string hint = suggest(sub, {"set", "get", "list", "rm", "import", "rotate-key"});
  return report_error(
      "unknown secrets subcommand '" + sub + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
      kExitUsage);
}

}  // namespace

const Command kSecretsCommand = {"secrets",
                                 "per-environment encrypted secrets (set, get, list, rm, import, rotate-key)",
                                 kGroupHelp, run_secrets};

}  // namespace villager::cli
