#!/usr/bin/env bash
# The canary judge's false-fail rate on identical releases and its power on real regressions, by sample
# size (docs/monitor.md, "Calibration"). No peer publishes these figures, so there is no ratio line.
#   bench/canary_calibration.sh BUILD_DIR [ANALYSES [STEPS]]
set -euo pipefail
build=$(cd "${1:?usage: canary_calibration.sh BUILD_DIR}" && pwd)
"$build/bench/canary_calibration" "${2:-1000}" "${3:-500}"
