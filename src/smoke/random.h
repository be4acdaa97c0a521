#pragma once
// Internal to the smoke module: the random values checks plant (markers, wrong credentials, keys).

#include <cstddef>
#include <string>

namespace villager::smoke {

// Cryptographically random bytes (OpenSSL RAND_bytes); aborts when the generator fails.
std::string random_bytes(size_t n);

}  // namespace villager::smoke
