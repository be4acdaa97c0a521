#include "artifact/git_info.h"

#include "base/strings.h"
#include "base/subprocess.h"

namespace villager::artifact {

namespace {
constexpr std::chrono::seconds kGitTimeout{30};
}  // namespace

GitInfo read_git_info(const std::filesystem::path& root, const std::vector<std::string>& exclude) {
  GitInfo info;
  RunOptions opts;
  opts.cwd = root.string();
  opts.timeout = kGitTimeout;
  auto head = run_process({"git", "rev-parse", "--verify", "HEAD"}, opts);
  if (!head || head->exit_code != 0) return info;
  info.commit = std::string(trim(head->out));
  std::vector<std::string> argv = {"git", "status", "--porcelain", "--", "."};
  for (const auto& e : exclude) argv.push_back(":(exclude)" + e);
  auto status = run_process(argv, opts);
  info.dirty = !status || status->exit_code != 0 || !trim(status->out).empty();
  return info;
}

}  // namespace villager::artifact
