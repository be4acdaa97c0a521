#include "artifact/native_check.h"

#include <algorithm>
#include <fstream>

#include "base/strings.h"

namespace villager::artifact {

namespace fs = std::filesystem;

namespace {

constexpr unsigned char kElfMagic[4] = {0x7f, 'E', 'L', 'F'};
constexpr size_t kEiData = 5;  // e_ident[EI_DATA]: 1 little-endian, 2 big-endian
constexpr size_t kMachineOffset = 18;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// "311" -> "3.11"; the first digit is the major version.
std::string dotted_version(std::string_view digits) {
  return std::string(digits.substr(0, 1)) + "." + std::string(digits.substr(1));
}

std::string describe(const AbiTag& tag) {
  if (tag.interpreter != "cpython") return tag.interpreter;
  if (tag.python.empty()) return "the stable ABI (abi3)";
  return "CPython " + tag.python + tag.flags;
}

// Whether an extension tagged `tag` loads in `target`'s Python on `target`'s platform.
bool tag_fits(const AbiTag& tag, const NativeTarget& target) {
  if (tag.interpreter != "cpython" || !tag.flags.empty()) return false;
  if (tag.python.empty()) return starts_with(target.python, "3.");  // abi3
  if (tag.python != target.python) return false;
  if (tag.triple.empty()) return true;
  bool musl_tag = ends_with(tag.triple, "-linux-musl");
  return starts_with(tag.triple, target.arch + "-") && musl_tag == target.musl;
}

}  // namespace

Result<uint16_t> read_elf_machine(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path.string());
  unsigned char h[kElfHeaderPrefixBytes] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (static_cast<size_t>(in.gcount()) < sizeof h)
    return InvalidArgument(path.string() + " is not an ELF file (" + std::to_string(in.gcount()) + " bytes)");
  for (size_t i = 0; i < sizeof kElfMagic; ++i)
    if (h[i] != kElfMagic[i]) return InvalidArgument(path.string() + " is not an ELF file (no ELF magic)");
  if (h[kEiData] == 2) return static_cast<uint16_t>(h[kMachineOffset] << 8 | h[kMachineOffset + 1]);
  if (h[kEiData] == 1) return static_cast<uint16_t>(h[kMachineOffset] | h[kMachineOffset + 1] << 8);
  return InvalidArgument(path.string() + " is not an ELF file (byte order " + std::to_string(h[kEiData]) +
                         ")");
}

std::string elf_machine_name(uint16_t machine) {
  switch (machine) {
    case 3:
      return "i386";
    case 8:
      return "mips";
    case 20:
      return "ppc";
    case 21:
      return "ppc64";
    case 22:
      return "s390x";
    case 40:
      return "arm";
    case kElfMachineX86_64:
      return "x86_64";
    case kElfMachineAarch64:
      return "aarch64";
    case 243:
      return "riscv64";
    default:
      return "machine " + std::to_string(machine);
  }
}

std::optional<uint16_t> elf_machine_of(std::string_view arch) {
  if (arch == "x86_64") return kElfMachineX86_64;
  if (arch == "aarch64") return kElfMachineAarch64;
  return std::nullopt;
}

bool is_shared_object_name(std::string_view name) {
  return ends_with(name, ".so") || name.find(".so.") != std::string_view::npos;
}

std::optional<AbiTag> parse_abi_tag(std::string_view name) {
  if (!ends_with(name, ".so")) return std::nullopt;
  std::string_view stem = name.substr(0, name.size() - 3);
  auto dot = stem.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view tag = stem.substr(dot + 1);
  if (tag == "abi3") return AbiTag{"cpython", "", "", ""};
  // cpython-311-x86_64-linux-gnu, cpython-313t-..., pypy39-pp73-x86_64-linux-gnu
  auto dash = tag.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view first = tag.substr(0, dash);
  if (!starts_with(first, "cpython")) {
    if (!starts_with(first, "pypy") && !starts_with(first, "graalpy")) return std::nullopt;
    auto second = tag.find('-', dash + 1);
    return AbiTag{std::string(tag.substr(0, second)), "", "", ""};
  }
  std::string_view rest = tag.substr(dash + 1);
  auto end = rest.find('-');
  std::string_view abi = rest.substr(0, end);
  size_t digits = abi.find_first_not_of("0123456789");
  std::string_view number = abi.substr(0, digits);
  if (number.size() < 2 || !all_digits(number)) return std::nullopt;
  AbiTag out{"cpython", dotted_version(number),
             digits == std::string_view::npos ? "" : std::string(abi.substr(digits)),
             end == std::string_view::npos ? "" : std::string(rest.substr(end + 1))};
  return out;
}

Status check_native_modules(const fs::path& dir, const std::string& prefix, const NativeTarget& target) {
  std::vector<std::string> problems;
  auto want_machine = elf_machine_of(target.arch);
  std::error_code ec;
  std::vector<fs::path> found;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && it->path().filename() == "__pycache__") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && is_shared_object_name(it->path().filename().string()))
      found.push_back(it->path());
  }
  if (ec) return Internal("walking " + dir.string() + ": " + ec.message());
  std::sort(found.begin(), found.end());
  const std::string service_is =
      "this service is " + target.arch + (target.musl ? " (musl)" : "") + ", Python " + target.python;
  for (const auto& path : found) {
    std::string shown = prefix + fs::relative(path, dir).generic_string();
    auto machine = read_elf_machine(path);
    if (!machine) {
      problems.push_back(shown + " is not a loadable shared object: " + machine.error().message);
      continue;
    }
    auto tag = parse_abi_tag(path.filename().string());
    bool arch_ok = want_machine && *machine == *want_machine;
    bool tag_ok = !tag || tag_fits(*tag, target);
    if (arch_ok && tag_ok) continue;
    std::string built = "built for " + elf_machine_name(*machine);
    if (tag) built += " and " + describe(*tag);
    if (tag && !tag->triple.empty() && ends_with(tag->triple, "-linux-musl")) built += " (musl)";
    problems.push_back(shown + " is " + built + "; " + service_is);
  }
  if (problems.empty()) return Ok();
  if (problems.size() == 1) return FailedPrecondition(problems[0]);
  return FailedPrecondition(std::to_string(problems.size()) + " shared objects do not fit this service:\n  " +
                            join(problems, "\n  "));
}

}  // namespace villager::artifact
