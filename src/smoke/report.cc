// The three report writers: JSON (for machines and the store), JUnit XML (for CI) and one line per
// check for people. Every string passes through redact(), so a registered secret is never written.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/redact.h"
#include "base/strings.h"
#include "smoke/smoke.h"

namespace villager::smoke {

namespace {

double ms(std::chrono::microseconds d) {
  return static_cast<double>(d.count()) / 1000.0;
}

// Three decimals at most: readable, and stable enough for diffs.
double round_ms(std::chrono::microseconds d) {
  return static_cast<double>(static_cast<long long>(ms(d) * 1000 + 0.5)) / 1000.0;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even escaped.
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
          out += '?';
        else
          out += static_cast<char>(c);
    }
  }
  return out;
}

std::string failure_text(const Failure& f) {
  return f.what + ": expected " + f.expected + ", got " + f.actual;
}

std::string label(const CheckResult& c) {
  return c.service.empty() ? c.name : c.name + " " + c.service;
}

}  // namespace

std::string to_json(const SmokeReport& report) {
  nlohmann::json j;
  j["passed"] = report.passed;
  j["duration_ms"] = round_ms(report.duration);
  j["checks"] = nlohmann::json::array();
  for (const auto& c : report.checks) {
    nlohmann::json jc;
    jc["name"] = redact(c.name);
    jc["service"] = c.service;
    jc["passed"] = c.passed;
    jc["skipped"] = c.skipped;
    jc["duration_ms"] = round_ms(c.duration);
    jc["failures"] = nlohmann::json::array();
    for (const auto& f : c.failures)
      jc["failures"].push_back(
          {{"what", redact(f.what)}, {"expected", redact(f.expected)}, {"actual", redact(f.actual)}});
    jc["notes"] = nlohmann::json::array();
    for (const auto& n : c.notes) jc["notes"].push_back(redact(n));
    j["checks"].push_back(std::move(jc));
  }
  // Replacement of invalid UTF-8 keeps a binary excerpt from making the report unwritable.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string to_junit(const SmokeReport& report) {
  size_t failures = 0, skipped = 0;
  for (const auto& c : report.checks) {
    failures += c.passed ? 0 : 1;
    skipped += c.skipped ? 1 : 0;
  }
  char time[32];
  std::snprintf(time, sizeof time, "%.3f", ms(report.duration) / 1000.0);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"villager smoke\" tests=\"" + std::to_string(report.checks.size()) +
         "\" failures=\"" + std::to_string(failures) + "\" time=\"" + time + "\">\n";
  out += "  <testsuite name=\"smoke\" tests=\"" + std::to_string(report.checks.size()) + "\" failures=\"" +
         std::to_string(failures) + "\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + time + "\">\n";
  for (const auto& c : report.checks) {
    std::snprintf(time, sizeof time, "%.3f", ms(c.duration) / 1000.0);
    out += "    <testcase classname=\"smoke." + xml_escape(c.service.empty() ? "all" : c.service) +
           "\" name=\"" + xml_escape(redact(c.name)) + "\" time=\"" + time + "\"";
    if (c.passed && !c.skipped && c.notes.empty()) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    if (c.skipped) out += "      <skipped message=\"" + xml_escape(redact(join(c.notes, "; "))) + "\"/>\n";
    if (!c.passed) {
      std::string body;
      for (const auto& f : c.failures) body += failure_text(f) + "\n";
      out += "      <failure message=\"" + xml_escape(redact(failure_text(c.failures.front()))) +
             "\" type=\"smoke\">" + xml_escape(redact(body)) + "</failure>\n";
    }
    if (!c.skipped && !c.notes.empty())
      out += "      <system-out>" + xml_escape(redact(join(c.notes, "\n"))) + "</system-out>\n";
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

void print_human(const SmokeReport& report, std::ostream& out, bool tty) {
  const char* green = tty ? "\033[32m" : "";
  const char* red = tty ? "\033[31m" : "";
  const char* dim = tty ? "\033[2m" : "";
  const char* reset = tty ? "\033[0m" : "";
  size_t failed = 0;
  for (const auto& c : report.checks) {
    char dur[32];
    // Sub-10ms checks get a decimal so "0ms" never hides that something ran.
    std::snprintf(dur, sizeof dur, ms(c.duration) < 10 ? "%.1fms" : "%.0fms", ms(c.duration));
    std::string mark =
        c.skipped ? std::string(dim) + "skip" + reset
                  : (c.passed ? std::string(green) + "ok  " + reset : std::string(red) + "FAIL" + reset);
    std::string line = mark + " " + label(c) + " " + dur;
    if (c.skipped && !c.notes.empty()) line += ": " + c.notes.front();
    if (!c.passed) {
      ++failed;
      line += ": " + failure_text(c.failures.front());
    }
    out << redact(line) << "\n";
    for (size_t i = 1; i < c.failures.size(); ++i)
      out << redact("       " + failure_text(c.failures[i])) << "\n";
  }
  char total[32];
  std::snprintf(total, sizeof total, "%.0fms", ms(report.duration));
  out << (report.passed ? green : red) << (report.passed ? "passed" : "FAILED") << reset << ": "
      << report.checks.size() - failed << "/" << report.checks.size() << " checks in " << total << "\n";
}

}  // namespace villager::smoke
