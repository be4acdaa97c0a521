// Which service is SGraph Send's transfers service, and its write endpoint as auth and cors call it.

#include <algorithm>

#include "smoke/context.h"
#include "smoke/sgraph_send/profile.h"

namespace villager::smoke::sgraph_send {

bool is_transfers_service(const config::Config& c, const config::ServiceConfig& s) {
  const std::string& secret = c.smoke.sgraph_send.access_token_secret;
  return c.profile == config::Profile::kSgraphSend && !secret.empty() &&
         std::find(s.secrets.begin(), s.secrets.end(), secret) != s.secrets.end();
}

std::optional<WriteEndpoint> write_endpoint(SmokeContext& ctx, const config::ServiceConfig& s) {
  if (!is_transfers_service(ctx.config, s) || ctx.paths().write_path.empty()) return std::nullopt;
  return WriteEndpoint{ctx.paths().write_path, ctx.config.smoke.sgraph_send.access_token_header,
                       ctx.paths().explanation};
}

Failure missing_path(SmokeContext& ctx, const std::string& line, const std::string& key) {
  return {line, "an endpoint of the service",
          "status 404: this path does not exist on the service: check `" + key + "` (" +
              ctx.paths().explanation + ")"};
}

}  // namespace villager::smoke::sgraph_send
