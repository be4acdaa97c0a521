#pragma once
// How `villager scan` and `villager package` print secret-scan findings: one line per finding on
// stdout ("FILE:LINE:COL: RULE: MASKED fingerprint=HEX"), notes on stderr, or one JSON document.

#include <string>

#include "artifact/secret_scan.h"

namespace villager::cli {

// `dir_label` prefixes each file so findings from several build dirs stay unambiguous.
void print_findings_text(const artifact::ScanReport& r, const std::string& dir_label);
std::string findings_json(const artifact::ScanReport& r, const std::string& dir_label);

}  // namespace villager::cli
