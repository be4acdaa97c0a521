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

// "waived by appsec-lead (appsec) until 2026-12-18T10:00:00.000Z: RF-09, fix in v0.4"
std::string waived_text(const Waived& w) {
  return "waived by " + w.by + " until " + format_rfc3339(w.until) + (w.note.empty() ? "" : ": " + w.note) +
         (w.expires_soon ? " (expires soon)" : "");
}

std::string fp_tag(const Failure& f) {
  return f.fingerprint.empty() ? "" : " [" + f.fingerprint + "]";
}

// The first finding no waiver covers: what a failed check is reported by (the first one when a report
// was put together by hand with every finding waived and passed false).
const Failure* first_open(const CheckResult& c) {
  for (const auto& f : c.failures)
    if (!f.waived) return &f;
  return c.passed || c.failures.empty() ? nullptr : &c.failures.front();
}

nlohmann::json failure_json(const Failure& f) {
  nlohmann::json jf = {{"what", redact(f.what)},
                       {"expected", redact(f.expected)},
                       {"actual", redact(f.actual)},
                       {"fingerprint", f.fingerprint}};
  if (f.waived)
    jf["waived"] = {{"by", f.waived->by},
                    {"note", redact(f.waived->note)},
                    {"until", format_rfc3339(f.waived->until)},
                    {"expires_soon", f.waived->expires_soon}};
  if (!f.waiver_refused.empty()) {
    jf["waiver_refused"] = nlohmann::json::array();
    for (const auto& why : f.waiver_refused) jf["waiver_refused"].push_back(redact(why));
  }
  return jf;
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
    jc["waived"] = c.waived;
    jc["duration_ms"] = round_ms(c.duration);
    jc["failures"] = nlohmann::json::array();
    for (const auto& f : c.failures) jc["failures"].push_back(failure_json(f));
    jc["notes"] = nlohmann::json::array();
    for (const auto& n : c.notes) jc["notes"].push_back(redact(n));
    if (!c.redirects.empty()) {
      jc["redirects"] = nlohmann::json::array();
      for (const auto& h : c.redirects)
        jc["redirects"].push_back(
            {{"from", redact(h.from)}, {"status", h.status}, {"location", redact(h.location)}});
    }
    j["checks"].push_back(std::move(jc));
  }
  // Replacement of invalid UTF-8 keeps a binary excerpt from making the report unwritable.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string to_junit(const SmokeReport& report) {
  size_t failures = 0, skipped = 0;
  for (const auto& c : report.checks) {
    failures += c.passed ? 0 : 1;
    skipped += c.skipped || c.waived ? 1 : 0;
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
    if (c.passed && !c.skipped && !c.waived && c.notes.empty()) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    if (c.skipped) out += "      <skipped message=\"" + xml_escape(redact(join(c.notes, "; "))) + "\"/>\n";
    // A waived finding still ran: CI shows it as skipped, with who waived it, why and until when.
    if (c.waived) {
      std::vector<std::string> why;
      for (const auto& f : c.failures) why.push_back(f.fingerprint + " " + waived_text(*f.waived));
      out += "      <skipped message=\"" + xml_escape(redact(join(why, "; "))) + "\"/>\n";
    }
    if (!c.passed) {
      std::string body;
      for (const auto& f : c.failures)
        body += failure_text(f) + fp_tag(f) + (f.waived ? " " + waived_text(*f.waived) : "") + "\n";
      out += "      <failure message=\"" + xml_escape(redact(failure_text(*first_open(c)))) +
             "\" type=\"smoke\">" + xml_escape(redact(body)) + "</failure>\n";
    }
    if (!c.skipped && !c.waived && !c.notes.empty())
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
  const char* yellow = tty ? "\033[33m" : "";
  const char* reset = tty ? "\033[0m" : "";
  size_t failed = 0;
  for (const auto& c : report.checks) {
    char dur[32];
    // Sub-10ms checks get a decimal so "0ms" never hides that something ran.
    std::snprintf(dur, sizeof dur, ms(c.duration) < 10 ? "%.1fms" : "%.0fms", ms(c.duration));
    std::string mark = c.skipped  ? std::string(dim) + "skip" + reset
                       : c.waived ? std::string(yellow) + "waiv" + reset
                       : c.passed ? std::string(green) + "ok  " + reset
                                  : std::string(red) + "FAIL" + reset;
    std::string line = mark + " " + label(c) + " " + dur;
    if (c.skipped && !c.notes.empty()) line += ": " + c.notes.front();
    if (c.waived) line += ": " + std::to_string(c.failures.size()) + " waived finding(s)";
    const Failure* open = first_open(c);
    if (!c.passed) {
      ++failed;
      line += ": " + failure_text(*open) + fp_tag(*open);
    }
    out << redact(line) << "\n";
    if (open)
      for (const auto& why : open->waiver_refused) out << redact("       waiver refused: " + why) << "\n";
    // Every finding with its fingerprint, so it can be waived (`villager waive --finding FP`).
    for (const auto& f : c.failures) {
      if (&f == open) continue;
      std::string l = "       " + failure_text(f) + fp_tag(f);
      if (f.waived) l += " " + waived_text(*f.waived);
      out << redact(l) << "\n";
      for (const auto& why : f.waiver_refused) out << redact("         waiver refused: " + why) << "\n";
    }
  }
  char total[32];
  std::snprintf(total, sizeof total, "%.0fms", ms(report.duration));
  out << (report.passed ? green : red) << (report.passed ? "passed" : "FAILED") << reset << ": "
      << report.checks.size() - failed << "/" << report.checks.size() << " checks in " << total << "\n";
}

}  // namespace villager::smoke
