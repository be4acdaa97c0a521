// `villager audit verify|list|append`: the hash-chained audit log in the state store.

#include <cstdlib>
#include <iostream>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/project.h"
#include "store/store.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager audit verify [-c FILE | --state-dir DIR] [--json]
       villager audit list   [-c FILE | --state-dir DIR] [--limit N] [--json]
       villager audit append [-c FILE | --state-dir DIR] --kind KIND --subject SUBJECT [--actor NAME]
                             [--data JSON]

The audit log is append-only and hash-chained: each event stores the SHA-256 of the one before it
(see docs/store.md).

  verify   walks the chain from the first event. Prints the event count and the head hash, exit 0;
           or names the first event that was edited, deleted or reordered, exit 1.
           Keep the head hash elsewhere (a review document) to also detect events cut from the end.
  list     prints the last N events (default 50; 0 = all), oldest first.
  append   records an operator's event (for example a manual change made outside villager) and
           prints its seq. --actor defaults to $USER; --data defaults to {}.

options:
  -c, --config FILE the project's villager.toml: its [project] state_dir is the state directory
                    (default: $VILLAGER_CONFIG, else ./villager.toml if it exists)
  --state-dir DIR   the state directory; overrides the config (default without a config: .villager)
  --json            machine-readable output on stdout
  --limit N         list: how many of the newest events
  -h, --help        this text
)";

constexpr int kDefaultListLimit = 50;

// --state-dir, else the config's state_dir (from -c, $VILLAGER_CONFIG or an existing ./villager.toml),
// else .villager. A config that is named but does not load is a usage error, never silently skipped.
Result<std::filesystem::path> state_dir(const Args& args) {
  if (args.has("state-dir")) return std::filesystem::path(args.get("state-dir"));
  std::string file = config_path(args);
  std::error_code ec;
  if (!args.has("config") && !std::getenv("VILLAGER_CONFIG") && !std::filesystem::exists(file, ec))
    return std::filesystem::path(".villager");
  auto cfg = load_project(args);
  if (!cfg) return InvalidArgument(cfg.error().message);
  return cfg->state_dir();
}

Result<std::unique_ptr<store::Store>> open_store(const Args& args, bool create) {
  auto dir = state_dir(args);
  if (!dir) return dir.error();
  return store::Store::open(*dir, store::OpenOptions{nullptr, create});
}

// Config problems are usage errors (exit 2); anything else about the store fails the command (exit 1).
int store_error(const Error& err, std::string_view what) {
  return report_error(err.context(what), err.code == Code::kInvalidArgument ? kExitUsage : kExitFailed);
}

int run_verify(const Args& args) {
  auto st = open_store(args, false);
  if (!st) return store_error(st.error(), "audit verify");
  auto v = store::verify_audit(**st);
  if (!v) return report_error(v.error().context("audit verify"), kExitFailed);
  if (args.has("json")) {
    std::cout << "{\"ok\":" << (v->ok ? "true" : "false") << ",\"events\":" << v->events
              << ",\"head_hash\":" << quote(v->head_hash);
    if (!v->ok) {
      std::cout << ",\"first_bad_seq\":" << v->first_bad_seq
                << ",\"problem\":" << quote(to_string(v->problem)) << ",\"message\":" << quote(v->message);
    }
    std::cout << "}\n";
  } else if (v->ok) {
    std::cout << "audit log ok: " << v->events << " events";
    if (!v->head_hash.empty()) std::cout << ", head " << v->head_hash;
    std::cout << "\n";
  }
  if (!v->ok) return report_error("audit log " + (*st)->db_path().string() + ": " + v->message, kExitFailed);
  return kExitOk;
}

int run_list(const Args& args) {
  int limit = kDefaultListLimit;
  if (args.has("limit")) {
    std::string text = args.get("limit");
    char* end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n < 0 || n > 1'000'000'000)
      return report_error("audit list: --limit must be a whole number >= 0, got '" + text + "'", kExitUsage);
    limit = static_cast<int>(n);
  }
  auto st = open_store(args, false);
  if (!st) return store_error(st.error(), "audit list");
  auto rows = store::list_audit(**st, limit);
  if (!rows) return report_error(rows.error().context("audit list"), kExitFailed);
  if (args.has("json")) {
    std::cout << "[";
    bool first = true;
    for (const auto& r : *rows) {
      std::cout << (first ? "\n" : ",\n") << "  {\"seq\":" << r.seq
                << ",\"ts\":" << quote(format_rfc3339(from_unix_millis(r.ts)))
                << ",\"actor\":" << quote(r.actor) << ",\"kind\":" << quote(r.kind) << ",\"subject\":"
                << quote(r.subject)
                // data is JSON already (the table checks json_valid), so it is embedded as it is.
                << ",\"data\":" << r.data << ",\"prev_hash\":" << quote(r.prev_hash)
                << ",\"hash\":" << quote(r.hash) << "}";
      first = false;
    }
    std::cout << (first ? "]\n" : "\n]\n");
    return kExitOk;
  }
  for (const auto& r : *rows) {
    std::cout << r.seq << "  " << format_rfc3339(from_unix_millis(r.ts)) << "  " << r.actor << "  " << r.kind
              << "  " << r.subject << "  " << r.data << "\n";
  }
  return kExitOk;
}

int run_append(const Args& args) {
  if (!args.has("kind") || !args.has("subject"))
    return report_error("audit append: --kind and --subject are required", kExitUsage);
  const char* user = std::getenv("USER");
  store::AuditEvent event{args.get("actor", user && *user ? user : "unknown"), args.get("kind"),
                          args.get("subject"), args.get("data", "{}")};
  auto st = open_store(args, true);
  if (!st) return store_error(st.error(), "audit append");
  auto seq = store::append_audit(**st, event);
  if (!seq) return report_error(seq.error(), exit_code_for(seq.error()));
  std::cout << *seq << "\n";
  return kExitOk;
}

int run_audit(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag,
                                 {"state-dir", true},
                                 {"json", false},
                                 {"limit", true},
                                 {"kind", true},
                                 {"subject", true},
                                 {"actor", true},
                                 {"data", true}});
  if (!args) return report_error(args.error().context("audit"), kExitUsage);
  if (args->help()) return print_help(kHelp);
  const auto& pos = args->positionals();
  if (pos.size() != 1) {
    return report_error("audit: expected one of 'verify', 'list', 'append' (see villager audit --help)",
                        kExitUsage);
  }
  if (pos[0] == "verify") return run_verify(*args);
  if (pos[0] == "list") return run_list(*args);
  if (pos[0] == "append") return run_append(*args);
  std::string hint = suggest(pos[0], {"verify", "list", "append"});
  return report_error(
      "audit: unknown subcommand '" + pos[0] + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
      kExitUsage);
}

}  // namespace

const Command kAuditCommand = {"audit", "verify or list the hash-chained audit log", kHelp, run_audit};

}  // namespace villager::cli
