#include "pipeline/python_deps_step.h"

#include <sys/utsname.h>

#include "artifact/python_deps.h"
#include "base/fs.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "pipeline/build_step.h"

namespace villager::pipeline {

namespace fs = std::filesystem;

namespace {

std::string build_dir_prefix(const config::ServiceConfig& service) {
  std::string prefix = fs::path(service.build_dir).lexically_normal().generic_string();
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return prefix;
}

Status copy_from_system(const config::Config& config, const config::PythonDepsConfig& deps,
                        const fs::path& target) {
  auto text = read_file(config.root / deps.requirements);
  if (!text) return text.error().context("reading python_deps.requirements");
  auto reqs = artifact::parse_pinned_requirements(*text, deps.requirements);
  if (!reqs) return reqs.error();
  if (auto s = ensure_dir(target); !s.ok()) return s;
  return artifact::copy_installed_distributions(*reqs, artifact::kDebianDistPackages, target,
                                                deps.requirements);
}

Status install_wheels(const config::Config& config, const config::ServiceConfig& service,
                      const fs::path& target) {
  std::vector<std::string> argv = pip_install_argv(config, *service.python_deps, target.string());
  RunOptions opts;
  opts.env_add = build_environment();
  opts.replace_env = true;
  opts.cwd = config.root.string();
  opts.timeout = service.build_timeout;
  auto r = run_process(argv, opts);
  if (!r) return FailedPrecondition("`python3 -m pip` did not start: " + r.error().message);
  if (r->timed_out || r->exit_code != 0) {
    std::string out = tail_lines(r->out + "\n" + r->err, kBuildTailLines);
    std::string how = r->timed_out ? "timed out" : "failed with exit code " + std::to_string(r->exit_code);
    return FailedPrecondition("`" + join(argv, " ") + "` " + how +
                              (out.empty() ? "" : "; its last output:\n" + out));
  }
  return Ok();
}

}  // namespace

std::string host_arch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  std::string m = u.machine;
  return m == "arm64" ? "aarch64" : m;
}

artifact::NativeTarget native_target(const config::PythonDepsConfig& deps) {
  std::string arch = deps.arch();
  return {arch.empty() ? host_arch() : arch, deps.python, deps.musl()};
}

std::vector<std::string> pip_install_argv(const config::Config& config, const config::PythonDepsConfig& deps,
                                          const std::string& target) {
  std::vector<std::string> argv = {"python3",
                                   "-m",
                                   "pip",
                                   "install",
                                   "--isolated",
                                   "--no-index",
                                   "--find-links",
                                   (config.root / deps.from).string(),
                                   "--only-binary=:all:",
                                   "--no-compile",
                                   "--no-cache-dir",
                                   "--disable-pip-version-check",
                                   "--target",
                                   target,
                                   "--python-version",
                                   deps.python,
                                   "--implementation",
                                   "cp"};
  if (!deps.platform.empty()) argv.insert(argv.end(), {"--platform", deps.platform});
  argv.insert(argv.end(), {"-r", (config.root / deps.requirements).string()});
  return argv;
}

Status vendor_python_deps(const config::Config& config, const config::ServiceConfig& service) {
  if (!service.python_deps) return Ok();
  const config::PythonDepsConfig& deps = *service.python_deps;
  const fs::path target = config.root / service.build_dir / deps.target;
  const std::string what =
      "service " + service.name + ": vendoring python_deps into " + build_dir_prefix(service) + deps.target;
  // Whatever an earlier run left there would otherwise be packed with this one.
  std::error_code ec;
  fs::remove_all(target, ec);
  if (ec) return Internal(what + ": emptying " + target.string() + ": " + ec.message());
  if (auto s = ensure_dir(target.parent_path()); !s.ok()) return s.error().context(what);
  Status s =
      deps.from_system() ? copy_from_system(config, deps, target) : install_wheels(config, service, target);
  if (!s.ok()) return s.error().context(what);
  return Ok();
}

Result<std::vector<artifact::PythonDep>> checked_python_deps(const config::Config& config,
                                                             const config::ServiceConfig& service) {
  if (!service.python_deps) return std::vector<artifact::PythonDep>{};
  const fs::path dir = config.root / service.build_dir;
  if (auto s =
          artifact::check_native_modules(dir, build_dir_prefix(service), native_target(*service.python_deps));
      !s.ok())
    return s.error();
  auto deps = artifact::list_python_deps(dir / service.python_deps->target);
  if (!deps) return deps.error().context("listing the vendored python_deps");
  return deps;
}

}  // namespace villager::pipeline
