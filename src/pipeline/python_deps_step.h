#pragma once
// Vendoring a service's Python dependencies (`python_deps`, docs/python.md): after the build step,
// build_dir/target is emptied and filled offline, from Debian's installed packages or from a wheel
// folder through `pip install --no-index`; at pack time every shared object in the build dir is checked
// against the service's platform and Python, and the distributions found in target are listed for the
// manifest.

#include <string>
#include <vector>

#include "artifact/manifest.h"
#include "artifact/native_check.h"
#include "base/error.h"
#include "config/config.h"

namespace villager::pipeline {

// This machine's architecture as pip and the ELF check spell it ("x86_64", "aarch64"; uname's
// machine otherwise).
std::string host_arch();

// The platform and Python the service's shared objects must fit: python_deps.platform's architecture,
// else this host's.
artifact::NativeTarget native_target(const config::PythonDepsConfig& deps);

// The pip command line for a wheel folder: no index, binary wheels only, no bytecode, no pip
// configuration read, into `target`, for python_deps.python (and platform when set).
std::vector<std::string> pip_install_argv(const config::Config& config, const config::PythonDepsConfig& deps,
                                          const std::string& target);

// Empties build_dir/target and fills it: `from = "system"` copies the pinned distributions from
// /usr/lib/python3/dist-packages; a wheel folder runs pip_install_argv in the build environment,
// bounded by build_timeout. A service without python_deps is left alone. Failures are
// FailedPrecondition naming the service and the requirements file line (system) or pip's last output.
Status vendor_python_deps(const config::Config& config, const config::ServiceConfig& service);

// For pack time: refuses any shared object under build_dir that does not fit native_target()
// (FailedPrecondition naming each file from the project root), then lists the distributions in
// build_dir/target. Empty for a service without python_deps.
Result<std::vector<artifact::PythonDep>> checked_python_deps(const config::Config& config,
                                                             const config::ServiceConfig& service);

}  // namespace villager::pipeline
