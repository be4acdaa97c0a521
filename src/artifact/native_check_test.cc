#include "artifact/native_check.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "testutil/temp_dir.h"

namespace villager::artifact {
namespace {

namespace fs = std::filesystem;

// The first 20 bytes of a 64-bit ELF shared object for `machine`, then some padding.
std::string elf_header(uint16_t machine, bool big_endian = false) {
  std::string h = {'\x7f', 'E', 'L', 'F', 2, static_cast<char>(big_endian ? 2 : 1), 1, 0};
  h.resize(16, '\0');
  h += big_endian ? std::string{0, 3} : std::string{3, 0};  // e_type ET_DYN
  if (big_endian) {
    h += static_cast<char>(machine >> 8);
    h += static_cast<char>(machine & 0xff);
  } else {
    h += static_cast<char>(machine & 0xff);
    h += static_cast<char>(machine >> 8);
  }
  return h + std::string(44, '\0');
}

void write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(write_file_atomic(p, content).ok());
}

const NativeTarget kX86Py311{"x86_64", "3.11", false};

TEST(NativeCheck, ReadsTheMachineOfBothArchitecturesAndByteOrders) {
  TempDir t;
  write(t / "x.so", elf_header(kElfMachineX86_64));
  write(t / "a.so", elf_header(kElfMachineAarch64));
  write(t / "be.so", elf_header(kElfMachineAarch64, true));
  EXPECT_EQ(read_elf_machine(t / "x.so").value_or(0), kElfMachineX86_64);
  EXPECT_EQ(read_elf_machine(t / "a.so").value_or(0), kElfMachineAarch64);
  EXPECT_EQ(read_elf_machine(t / "be.so").value_or(0), kElfMachineAarch64);
  EXPECT_EQ(elf_machine_name(kElfMachineAarch64), "aarch64");
  EXPECT_EQ(elf_machine_name(9999), "machine 9999");
}

TEST(NativeCheck, RefusesAFileThatIsNotElf) {
  TempDir t;
  write(t / "short.so",
        "\x7f"
        "EL");
  write(t / "text.so", "INPUT(libc.so.6)\n" + std::string(20, ' '));
  auto short_file = read_elf_machine(t / "short.so");
  ASSERT_FALSE(short_file.has_value());
  EXPECT_NE(short_file.error().message.find("not an ELF file (3 bytes)"), std::string::npos);
  auto text = read_elf_machine(t / "text.so");
  ASSERT_FALSE(text.has_value());
  EXPECT_NE(text.error().message.find("no ELF magic"), std::string::npos);
}

TEST(NativeCheck, ParsesCPythonAndStableAbiTags) {
  auto t = parse_abi_tag("_x.cpython-312-aarch64-linux-gnu.so");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->interpreter, "cpython");
  EXPECT_EQ(t->python, "3.12");
  EXPECT_EQ(t->flags, "");
  EXPECT_EQ(t->triple, "aarch64-linux-gnu");
  auto ft = parse_abi_tag("_x.cpython-313t-x86_64-linux-gnu.so");
  ASSERT_TRUE(ft.has_value());
  EXPECT_EQ(ft->python, "3.13");
  EXPECT_EQ(ft->flags, "t");
  auto abi3 = parse_abi_tag("_cffi.abi3.so");
  ASSERT_TRUE(abi3.has_value());
  EXPECT_EQ(abi3->python, "");
  auto pypy = parse_abi_tag("_x.pypy39-pp73-x86_64-linux-gnu.so");
  ASSERT_TRUE(pypy.has_value());
  EXPECT_EQ(pypy->interpreter, "pypy39-pp73");
  EXPECT_FALSE(parse_abi_tag("_speedups.so").has_value());
  EXPECT_FALSE(parse_abi_tag("libz.so.1").has_value());
  EXPECT_FALSE(parse_abi_tag("module.py").has_value());
  EXPECT_TRUE(is_shared_object_name("libgfortran-2e0d59d6.so.5.0.0"));
  EXPECT_FALSE(is_shared_object_name("solver.py"));
}

TEST(NativeCheck, AcceptsModulesForTheServicesPlatformAndPython) {
  TempDir t;
  write(t / "python/_a.cpython-311-x86_64-linux-gnu.so", elf_header(kElfMachineX86_64));
  write(t / "python/_b.abi3.so", elf_header(kElfMachineX86_64));
  write(t / "python/pkg.libs/libz-1a2b.so.1.2", elf_header(kElfMachineX86_64));
  write(t / "python/_plain.so", elf_header(kElfMachineX86_64));
  write(t / "python/readme.txt", "not checked");
  Status s = check_native_modules(t.path(), "dist/user/", kX86Py311);
  EXPECT_TRUE(s.ok()) << s.error().message;
}

TEST(NativeCheck, RefusesAnotherArchitectureOrPythonNamingTheFile) {
  TempDir t;
  write(t / "python/_x.cpython-312-aarch64-linux-gnu.so", elf_header(kElfMachineAarch64));
  Status s = check_native_modules(t.path(), "dist/user/", kX86Py311);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(
      s.error().message,
      "dist/user/python/_x.cpython-312-aarch64-linux-gnu.so is built for aarch64 and CPython 3.12; this "
      "service is x86_64, Python 3.11");

  // Every bad file is named, each for its own reason; the good one is not.
  TempDir u;
  write(u / "ok/_a.cpython-311-x86_64-linux-gnu.so", elf_header(kElfMachineX86_64));
  write(u / "py/_abi.cpython-310-x86_64-linux-gnu.so", elf_header(kElfMachineX86_64));
  write(u / "py/_arch.so", elf_header(kElfMachineAarch64));
  write(u / "py/_musl.cpython-311-x86_64-linux-musl.so", elf_header(kElfMachineX86_64));
  write(u / "py/_text.so", std::string(40, 'x'));
  Status all = check_native_modules(u.path(), "", kX86Py311);
  ASSERT_FALSE(all.ok());
  const std::string& m = all.error().message;
  EXPECT_EQ(m.rfind("4 shared objects do not fit this service:\n", 0), 0u) << m;
  EXPECT_NE(m.find("py/_abi.cpython-310-x86_64-linux-gnu.so is built for x86_64 and CPython 3.10"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("py/_arch.so is built for aarch64; this service is x86_64, Python 3.11"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("py/_musl.cpython-311-x86_64-linux-musl.so is built for x86_64 and CPython 3.11 (musl)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("py/_text.so is not a loadable shared object"), std::string::npos) << m;
  EXPECT_EQ(m.find("ok/_a"), std::string::npos) << m;
}

TEST(NativeCheck, AnAarch64ServiceRefusesX86AndTakesAarch64) {
  TempDir t;
  write(t / "_a.cpython-311-aarch64-linux-gnu.so", elf_header(kElfMachineAarch64));
  EXPECT_TRUE(check_native_modules(t.path(), "", {"aarch64", "3.11", false}).ok());
  write(t / "_b.cpython-311-x86_64-linux-gnu.so", elf_header(kElfMachineX86_64));
  Status s = check_native_modules(t.path(), "", {"aarch64", "3.11", false});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("_b.cpython-311-x86_64-linux-gnu.so is built for x86_64"),
            std::string::npos);
}

}  // namespace
}  // namespace villager::artifact
