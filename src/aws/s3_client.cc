#include "aws/s3_client.h"

namespace villager::aws {

namespace {

std::vector<std::string> xml_texts(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (size_t pos = xml.find(open); pos != std::string::npos; pos = xml.find(open, pos)) {
    auto end = xml.find(close, pos);
    if (end == std::string::npos) break;
    out.push_back(xml.substr(pos + open.size(), end - pos - open.size()));
    pos = end + close.size();
  }
  return out;
}

// S3 escapes the five XML entities in keys; nothing else is expected in a ListObjectsV2 answer.
std::string xml_unescape(std::string s) {
  for (auto [from, to] :
       {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&#39;", "'"}})
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p))
      s.replace(p, std::string(from).size(), to);
  for (size_t p = s.find("&amp;"); p != std::string::npos; p = s.find("&amp;", p + 1)) s.replace(p, 5, "&");
  return s;
}

std::string object_path(const std::string& bucket, const std::string& key) {
  return "/" + uri_encode(bucket) + "/" + uri_encode(key, /*keep_slash=*/true);
}

}  // namespace

Status s3_put_object(AwsClient& client, const std::string& bucket, const std::string& key,
                     std::string_view body) {
  auto r = client.call("PUT", object_path(bucket, key), std::string(body), "application/zip");
  if (!r) return r.error().context("uploading s3://" + bucket + "/" + key);
  return Ok();
}

Result<std::vector<std::string>> s3_list_keys(AwsClient& client, const std::string& bucket,
                                              const std::string& prefix, size_t max_keys) {
  std::vector<std::string> keys;
  std::string token;
  while (keys.size() < max_keys) {
    // Query keys in sorted order, as the canonical request has them.
    std::string q = "?list-type=2";
    if (!token.empty()) q = "?continuation-token=" + uri_encode(token) + "&list-type=2";
    q += "&prefix=" + uri_encode(prefix);
    auto r = client.call("GET", "/" + uri_encode(bucket) + q);
    if (!r) return r.error().context("listing s3://" + bucket + "/" + prefix);
    for (const auto& k : xml_texts(r->body, "Key")) keys.push_back(xml_unescape(k));
    auto truncated = xml_texts(r->body, "IsTruncated");
    auto next = xml_texts(r->body, "NextContinuationToken");
    if (truncated.empty() || truncated[0] != "true" || next.empty()) break;
    token = xml_unescape(next[0]);
  }
  if (keys.size() > max_keys) keys.resize(max_keys);
  return keys;
}

Result<std::string> s3_get_object(AwsClient& client, const std::string& bucket, const std::string& key) {
  auto r = client.call("GET", object_path(bucket, key));
  if (!r) return r.error().context("reading s3://" + bucket + "/" + key);
  return std::move(r->body);
}

}  // namespace villager::aws
