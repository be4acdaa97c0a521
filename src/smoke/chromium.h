#pragma once
// A headless Chromium driven over the DevTools protocol, for the smoke suite's browser check. One
// Chromium process per Chromium object, in its own process group and a throw-away profile directory,
// debugging on a loopback port the browser picks; destroying the object kills the group and removes the
// profile. Calls are synchronous and bounded by the deadline given; events (Network.*, Page.*) that
// arrive meanwhile are kept in order for events().
//
//   auto browser = Chromium::launch("chromium", deadline);
//   (*browser)->call("Page.navigate", {{"url", url}}, deadline);
//   for (const auto& e : (*browser)->events()) ...

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/error.h"

namespace villager::smoke {

class Chromium {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Starts `binary` (a name on PATH or a path) headless on about:blank and attaches to its page.
  // NotFound when the binary is not there; Unavailable (with the end of its stderr) when it exits or
  // does not open its debugging port before `deadline`.
  // `flags` are added to the command line (how the page's host is resolved, which keys are trusted).
  static Result<std::unique_ptr<Chromium>> launch(const std::string& binary, Deadline deadline,
                                                  const std::vector<std::string>& flags = {});
  ~Chromium();
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // Sends one command to the page and returns its result, or the protocol's error as Internal.
  Result<nlohmann::json> call(const std::string& method, const nlohmann::json& params, Deadline deadline);
  // Evaluates a JavaScript expression in the page (awaiting a promise) and returns its value.
  Result<nlohmann::json> evaluate(const std::string& expression, Deadline deadline);
  // Every event received so far, oldest first: {"method": ..., "params": ...}.
  const std::vector<nlohmann::json>& events() const { return events_; }
  // The profile directory (files handed to the page can be written below it).
  const std::filesystem::path& scratch() const { return dir_; }

 private:
  struct Socket;
  Chromium() = default;
  Result<nlohmann::json> read_message(Deadline deadline);

  std::filesystem::path dir_;
  int pid_ = 0;
  std::unique_ptr<Socket> socket_;
  int64_t next_id_ = 1;
  std::vector<nlohmann::json> events_;
};

}  // namespace villager::smoke
