#include "notify/channel.h"

#include <algorithm>

#include "base/fs.h"
#include "base/redact.h"
#include "base/strings.h"
#include "base/subprocess.h"
#include "net/http.h"

namespace villager::notify {

namespace {

// A webhook's answer is read only to report it; anything longer is cut.
constexpr size_t kMaxAnswerBytes = 4096;

bool listed_or_empty(const std::vector<std::string>& list, const std::string& value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

Status post_webhook(const config::NotifyConfig& ch, const std::string& body, const std::atomic<bool>* abort) {
  net::HttpRequest req;
  req.method = "POST";
  req.url = ch.url;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body;
  req.timeout = ch.timeout;
  req.max_body = kMaxAnswerBytes;
  req.truncate_body = true;
  req.abort = abort;
  auto r = net::http_send(req);
  if (!r) {
    if (r.error().code == Code::kTimeout) {
      if (abort && abort->load()) return Timeout("gave up: the process is exiting");
      return Timeout("no answer within " + format_duration(ch.timeout));
    }
    // The channel's name (its URL, masked) already leads the message; keep only curl's reason.
    const std::string& m = r.error().message;
    size_t colon = m.find(": ");
    return Unavailable(colon == std::string::npos ? m : m.substr(colon + 2));
  }
  if (r->status < 200 || r->status > 299)
    return Unavailable("HTTP " + std::to_string(r->status) + ": " + redact(r->body.substr(0, 200)));
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
