#pragma once
// The platform check of compiled Python extensions (docs/python.md, "The platform check"): every shared
// object in an artifact must be an ELF file for the service's architecture, and a CPython ABI tag in its
// name (`_foo.cpython-311-x86_64-linux-gnu.so`, `_foo.abi3.so`) must fit the service's Python version,
// so a dependency built for another machine is refused at package time rather than at import time.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::artifact {

inline constexpr uint16_t kElfMachineX86_64 = 62;
inline constexpr uint16_t kElfMachineAarch64 = 183;
// The bytes read from each shared object: e_ident (16) and e_type (2) come before e_machine (2).
inline constexpr size_t kElfHeaderPrefixBytes = 20;

// e_machine of the ELF file at `path`, read from its first kElfHeaderPrefixBytes in the byte order
// e_ident names. A file that is shorter or lacks the ELF magic is InvalidArgument.
Result<uint16_t> read_elf_machine(const std::filesystem::path& path);

// "x86_64", "aarch64", "i386", "arm", ... ; "machine N" for one villager does not name.
std::string elf_machine_name(uint16_t machine);
// The e_machine of "x86_64" or "aarch64"; nullopt for anything else.
std::optional<uint16_t> elf_machine_of(std::string_view arch);

// The ABI tag in an extension's file name. `python` is "3.11" for `cpython-311`, "" for the stable
// ABI (`abi3`), which any CPython 3 loads. `interpreter` is "cpython" or what the tag names instead
// ("pypy39-pp73"); `flags` is what follows the version ("t" for a free-threaded build, "d" debug).
struct AbiTag {
  std::string interpreter;
  std::string python;
  std::string flags;
  std::string triple;  // "x86_64-linux-gnu"; "" for abi3 and tags without one
};
// The tag of `file_name` ("_x.cpython-312-aarch64-linux-gnu.so"); nullopt when the name carries none
// ("_x.so", "libz.so.1").
std::optional<AbiTag> parse_abi_tag(std::string_view file_name);

// A shared object as the check sees it: a name ending in ".so" or holding ".so." ("libz.so.1").
bool is_shared_object_name(std::string_view file_name);

struct NativeTarget {
  std::string arch;    // "x86_64" | "aarch64"
  std::string python;  // "3.11"
  bool musl = false;   // a musllinux platform: extensions for glibc ("-linux-gnu") do not load
};

// Checks every shared object under `dir` (bytecode caches skipped). Each mismatch is one line naming
// the file as `prefix` + its relative path, what it is built for and what the service is:
// "dist/user/python/_x.cpython-312-aarch64-linux-gnu.so is built for aarch64 and CPython 3.12; this
// service is x86_64, Python 3.11". Any mismatch is FailedPrecondition: that line, or a count and every
// line when there are several.
Status check_native_modules(const std::filesystem::path& dir, const std::string& prefix,
                            const NativeTarget& target);

}  // namespace villager::artifact
