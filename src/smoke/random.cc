#include "smoke/random.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace villager::smoke {

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) std::abort();
  return out;
}

}  // namespace villager::smoke
