// libFuzzer target for parse_approval, the parser every approval file an outsider can hand us goes
// through. Built with clang (-fsanitize=fuzzer,address,undefined) by src/gate/CMakeLists.txt when clang
// is present; CTest runs it for a fixed number of inputs over fuzz_corpus/.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gate/approval.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = villager::gate::parse_approval(text, "fuzz.json");
  if (parsed) {
    // Whatever parses must re-serialise canonically and hash without trouble.
    (void)villager::gate::payload_matches_hash(*parsed);
    auto canonical = villager::gate::canonical_payload(parsed->approval);
    if (!canonical) __builtin_trap();  // the parser accepted a payload it cannot write back
  }
  return 0;
}
