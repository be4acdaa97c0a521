#pragma once
// How a LoadReport is shown: a wrk-like text layout for people, and the JSON document of docs/load.md
// (schema "villager.load/v1") for machines. Budgets turn a report into pass/fail.

#include <optional>
#include <string>
#include <vector>

#include "load/load.h"

namespace villager::load {

inline constexpr const char* kJsonSchema = "villager.load/v1";

// The header printed before the run starts ("Running 10s test @ URL", threads and connections).
std::string format_banner(const LoadOptions& options);
// The results, in wrk's layout (Latency Distribution, Requests/sec, Transfer/sec), plus the uncorrected
// distribution and the target rate in open model.
std::string format_text(const LoadReport& report);
// The JSON document (one object, pretty-printed, trailing newline).
std::string format_json(const LoadReport& report, const LoadOptions& options,
                        const std::vector<std::string>& budget_failures);
// One line for a terminal's progress display (no newline).
std::string format_progress(const Progress& p);

// Warnings for stderr: rate not reached, generator saturated. Empty when none.
std::vector<std::string> warnings(const LoadReport& report);

struct Budgets {
  std::optional<double> max_p99_ms;      // on the corrected p99 in open model
  std::optional<double> max_error_rate;  // 0..1, see LoadReport::error_rate
};
// One line per exceeded budget ("p99 12.40ms > 10ms"), plus "no response completed" when nothing did.
std::vector<std::string> check_budgets(const LoadReport& report, const Budgets& budgets);

// "980us", "1.24ms", "2.50s".
std::string format_latency(uint64_t us);
// "15.20MB", "312.00KB".
std::string format_bytes(double bytes);

}  // namespace villager::load
