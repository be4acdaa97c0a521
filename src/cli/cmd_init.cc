#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "cli/project.h"

namespace villager::cli {

namespace {

constexpr std::string_view kHelp = R"(usage: villager init [-c FILE] [--preset NAME]

Writes a commented starter villager.toml. It passes `villager config check` as written. Refuses to
overwrite an existing file.

presets:
  sgraph-send          the C++ reference service (services user and admin, environments explorer
                       and production on this host, smoke and alarm defaults); the default
  sgraph-send-python   SGraph Send's FastAPI apps as the repository lays them out
                       (sgraph_ai_app_send/version, the lambda__user and lambda__admin handlers):
                       uvicorn on the local environment dev, AWS Lambda for production

options:
  -c, --config FILE   where to write it (default ./villager.toml)
      --preset NAME   one of the presets above
)";

int run_init(const std::vector<std::string>& argv) {
  auto args = Args::parse(argv, {kConfigFlag, {"preset", true, 0}});
  if (!args) return report_error(args.error(), kExitUsage);
  if (args->help()) return print_help(kHelp);
  if (!args->positionals().empty()) return report_error("init takes no arguments", kExitUsage);
  std::string path = args->has("config") ? args->get("config") : "villager.toml";
  auto text = config::starter_config(args->has("preset") ? args->get("preset") : "sgraph-send");
  if (!text) return report_error(text.error(), kExitUsage);
  if (fs::exists(path)) return report_error(path + " already exists; not overwriting it", kExitFailed);
  if (auto s = write_file_atomic(path, *text); !s.ok())
    return report_error(s.error().context("writing " + path), kExitFailed);
  std::cout << "wrote " << path << "\n";
  std::cerr << "next: edit it, then run `villager config check`\n";
  return kExitOk;
}

}  // namespace

const Command kInitCommand = {"init", "write a starter villager.toml (SGraph Send presets)", kHelp, run_init};

}  // namespace villager::cli
