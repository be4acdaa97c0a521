#include "notify/channel.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "base/fs.h"
#include "base/redact.h"
#include "base/strings.h"
#include "base/subprocess.h"

namespace villager::notify {

namespace {

// A webhook's answer is read only to report it; anything longer is cut.
constexpr size_t kMaxAnswerBytes = 4096;

bool listed_or_empty(const std::vector<std::string>& list, const std::string& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

size_t keep_answer(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t len = size * n;
  if (out->size() < kMaxAnswerBytes) out->append(data, std::min(len, kMaxAnswerBytes - out->size()));
  return len;
}

int check_abort(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* abort = static_cast<const std::atomic<bool>*>(user);
  return abort && abort->load() ? 1 : 0;
}

Status post_webhook(const config::NotifyConfig& ch, const std::string& body, const std::atomic<bool>* abort) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (!curl) return Internal("curl_easy_init failed");
  std::string answer;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, ch.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(ch.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(ch.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // called from a worker thread
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_answer);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_abort);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(abort));
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Timeout("gave up: the process is exiting");
  if (rc == CURLE_OPERATION_TIMEDOUT) return Timeout("no answer within " + format_duration(ch.timeout));
  if (rc != CURLE_OK) return Unavailable(curl_easy_strerror(rc));
  if (status < 200 || status > 299)
    return Unavailable("HTTP " + std::to_string(status) + ": " + redact(answer.substr(0, 200)));
  return Ok();
}

Status run_command(const config::NotifyConfig& ch, const PipelineEvent& e, const std::string& body) {
  RunOptions opts;
  opts.stdin_data = body;
  opts.env_add["VILLAGER_EVENT"] = e.kind;
  opts.timeout = ch.timeout;
  auto r = run_process(ch.command, opts);
  if (!r) return r.error();
  if (r->timed_out) return Timeout("still running after " + format_duration(ch.timeout));
  if (r->exit_code != 0)
    return Unavailable("exited with " + std::to_string(r->exit_code) + ": " + redact(trim(r->err)));
  return Ok();
}

}  // namespace

bool channel_wants(const config::NotifyConfig& channel, const PipelineEvent& event) {
  return listed_or_empty(channel.events, event.kind) &&
         listed_or_empty(channel.environments, event.environment);
}

std::string channel_name(const config::NotifyConfig& channel) {
  std::string where = channel.type == "webhook"   ? channel.url
                      : channel.type == "command" ? join(channel.command, " ")
                                                  : channel.path;
  return redact(channel.type + " " + where);
}

Status send_event(const config::NotifyConfig& channel, const PipelineEvent& event,
                  const std::atomic<bool>* abort) {
  std::string body = event_json(event);
  Status s = Ok();
  if (channel.type == "webhook")
    s = post_webhook(channel, body, abort);
  else if (channel.type == "command")
    s = run_command(channel, event, body);
  else if (channel.type == "file")
    s = append_file(channel.path, body + "\n", fs::perms(0600));
  else
    s = InvalidArgument("unknown notify type '" + channel.type + "'");
  if (!s.ok()) return s.error().context("sending " + event.kind + " to " + channel_name(channel));
  return s;
}

}  // namespace villager::notify
