#include "cli/actor.h"

#include <unistd.h>

#include <cstdlib>

namespace villager::cli {

std::string current_actor() {
  if (const char* a = std::getenv("VILLAGER_ACTOR"); a && *a) return a;
  const char* user = std::getenv("USER");
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(user && *user ? user : "unknown") + "@" + host;
}

}  // namespace villager::cli
