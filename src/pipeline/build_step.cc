#include "pipeline/build_step.h"

#include <chrono>
#include <cstdlib>

#include "artifact/pack.h"
#include "base/strings.h"
#include "base/subprocess.h"

namespace villager::pipeline {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// The first non-empty line of the tool's stdout, else of its stderr (`python2 --version` writes there).
std::string first_line(const ProcessResult& r) {
  for (const std::string* text : {&r.out, &r.err})
    for (const auto& line : split(*text, '\n'))
      if (!trim(line).empty()) return std::string(trim(line));
  return "";
}

artifact::BuildTool ask_tool(const std::string& line, const RunOptions& opts) {
  std::vector<std::string> argv;
  for (const auto& word : split(line, ' '))
    if (!word.empty()) argv.push_back(word);
  auto r = run_process(argv, opts);
  if (!r) return {line, "cannot run: " + r.error().message};
  if (r->exit_code != 0) return {line, "exit " + std::to_string(r->exit_code) + ": " + first_line(*r)};
  return {line, first_line(*r)};
}

}  // namespace

std::map<std::string, std::string> build_environment() {
  std::string epoch = std::to_string(artifact::kDefaultZipMtime);
  return {{"PATH", env_or("PATH", "/usr/local/bin:/usr/bin:/bin")},
          {"HOME", env_or("HOME", "/")},
          {"LANG", "C.UTF-8"},
          {"SOURCE_DATE_EPOCH", env_or("SOURCE_DATE_EPOCH", epoch)},
          {"PYTHONDONTWRITEBYTECODE", "1"}};
}

std::string tail_lines(const std::string& text, size_t lines) {
  std::vector<std::string> all = split(text, '\n');
  while (!all.empty() && trim(all.back()).empty()) all.pop_back();
  if (all.size() > lines) all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(lines));
  return join(all, "\n");
}

Result<artifact::BuildRecord> run_build(const config::Config& config, const config::ServiceConfig& service) {
  artifact::BuildRecord rec;
  if (service.build.empty()) return rec;
  rec.command = service.build;
  rec.env = build_environment();
  RunOptions opts;
  opts.env_add = rec.env;
  opts.replace_env = true;
  opts.cwd = config.root.string();
  opts.timeout = service.build_timeout;

  const std::string what = "service " + service.name + ": build `" + join(service.build, " ") + "`";
  auto start = std::chrono::steady_clock::now();
  auto r = run_process(service.build, opts);
  rec.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  if (!r) return FailedPrecondition(what + " did not start: " + r.error().message);
  std::string output = r->out;
  if (!output.empty() && output.back() != '\n' && !r->err.empty()) output += '\n';
  output += r->err;
  rec.output_tail = tail_lines(output, kBuildTailLines);
  rec.exit_code = r->exit_code;
  if (r->timed_out || r->exit_code != 0) {
    std::string how = r->timed_out ? "timed out after " + std::to_string(service.build_timeout.count()) + "ms"
                      : r->exit_code == -1 ? "was killed by signal " + std::to_string(r->term_signal)
                                           : "failed with exit code " + std::to_string(r->exit_code);
    std::string tail =
        rec.output_tail.empty() ? " (it printed nothing)" : "; its last output:\n" + rec.output_tail;
    return FailedPrecondition(what + " " + how + " after " + std::to_string(rec.duration_ms) + "ms" + tail);
  }
  RunOptions tool_opts = opts;
  tool_opts.timeout = std::chrono::seconds(10);
  for (const auto& line : service.build_tools) rec.tools.push_back(ask_tool(line, tool_opts));
  return rec;
}

}  // namespace villager::pipeline
