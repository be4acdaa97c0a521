#include "artifact/python_deps.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/hash.h"
#include "testutil/temp_dir.h"

namespace villager::artifact {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& content, fs::perms mode = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(write_file_atomic(p, content, mode).ok());
}

// A site dir shaped like Debian's dist-packages: a wheel-installed distribution (dist-info with RECORD,
// which also lists a script outside the folder and a bytecode file), a setuptools one (egg-info with
// top_level.txt, a package and an extension module), a single-module one, and one not asked for.
void make_site(const fs::path& site) {
  write(site / "fastapi-0.92.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: fastapi\nVersion: 0.92.0\n\nName: not-this\n");
  write(site / "fastapi-0.92.0.dist-info/WHEEL", "Wheel-Version: 1.0\n");
  write(site / "fastapi-0.92.0.dist-info/RECORD",
        "fastapi-0.92.0.dist-info/METADATA,sha256=x,10\n"
        "fastapi-0.92.0.dist-info/WHEEL,sha256=x,10\n"
        "fastapi-0.92.0.dist-info/RECORD,,\n"
        "fastapi/__init__.py,sha256=x,10\n"
        "\"fastapi/odd,name.py\",sha256=x,10\n"
        "fastapi/__pycache__/__init__.cpython-311.pyc,,\n"
        "../../../bin/fastapi,sha256=x,10\n");
  write(site / "fastapi/__init__.py", "__version__ = '0.92.0'\n");
  write(site / "fastapi/odd,name.py", "x = 1\n");
  write(site / "fastapi/__pycache__/__init__.cpython-311.pyc", "bytecode");
  write(site / "pydantic-1.10.4.egg-info/PKG-INFO",
        "Metadata-Version: 2.1\nName: pydantic\nVersion: 1.10.4\n");
  write(site / "pydantic-1.10.4.egg-info/top_level.txt", "pydantic\n");
  write(site / "pydantic/__init__.py", "VERSION = '1.10.4'\n");
  write(site / "pydantic/fields.py", "class Field: ...\n");
  write(site / "pydantic/tool.sh", "#!/bin/sh\n", fs::perms(0755));
  write(site / "pydantic.cpython-311-x86_64-linux-gnu.so", "elf");
  write(site / "typing_extensions-4.4.0.dist-info/METADATA", "Name: typing_extensions\nVersion: 4.4.0\n");
  write(site / "typing_extensions-4.4.0.dist-info/RECORD",
        "typing_extensions.py,,\n"
        "typing_extensions-4.4.0.dist-info/METADATA,,\n");
  write(site / "typing_extensions.py", "# one module\n");
  write(site / "idna-3.3.egg-info/PKG-INFO", "Name: idna\nVersion: 3.3\n");
  write(site / "idna-3.3.egg-info/top_level.txt", "idna\n");
  write(site / "idna/__init__.py", "\n");
}

TEST(PythonDeps, NormalizesNamesTheWayPipDoes) {
  EXPECT_EQ(normalize_distribution_name("Typing_Extensions"), "typing-extensions");
  EXPECT_EQ(normalize_distribution_name("zope.interface"), "zope-interface");
  EXPECT_EQ(normalize_distribution_name("a-_.b"), "a-b");
}

TEST(PythonDeps, PinnedRequirementsAreNamesWithOptionalVersions) {
  auto r = parse_pinned_requirements("# the lock\nfastapi==0.92.0\n\ntyping-extensions  # any version\n",
                                     "req.txt");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "fastapi");
  EXPECT_EQ((*r)[0].version, "0.92.0");
  EXPECT_EQ((*r)[0].line, 2);
  EXPECT_EQ((*r)[1].name, "typing-extensions");
  EXPECT_EQ((*r)[1].version, "");
  EXPECT_EQ((*r)[1].line, 4);
}

TEST(PythonDeps, RefusesRequirementLinesItCannotPinNamingTheLine) {
  auto r = parse_pinned_requirements("fastapi>=0.90\n-r other.txt\nuvicorn[standard]\nidna\nIDNA==3.3\n",
                                     "req.txt");
  ASSERT_FALSE(r.has_value());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("req.txt:1: 'fastapi>=0.90': the system source takes one `name` or `name==version`"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("req.txt:2: '-r other.txt'"), std::string::npos) << m;
  EXPECT_NE(m.find("req.txt:3: 'uvicorn[standard]'"), std::string::npos) << m;
  EXPECT_NE(m.find("req.txt:5: 'IDNA' is listed again (first on line 4)"), std::string::npos) << m;
}

TEST(PythonDeps, CopiesTheFilesEachDistributionOwnsAndListsThem) {
  TempDir t;
  make_site(t / "site");
  auto reqs = parse_pinned_requirements("pydantic==1.10.4\nfastapi\ntyping_extensions\n", "req.txt");
  ASSERT_TRUE(reqs.has_value());
  Status s = copy_installed_distributions(*reqs, t / "site", t / "out", "req.txt");
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto files = list_files(t / "out");
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(*files,
            (std::vector<std::string>{
                "fastapi-0.92.0.dist-info/METADATA", "fastapi-0.92.0.dist-info/RECORD",
                "fastapi-0.92.0.dist-info/WHEEL", "fastapi/__init__.py", "fastapi/odd,name.py",
                "pydantic-1.10.4.egg-info/PKG-INFO", "pydantic-1.10.4.egg-info/top_level.txt",
                "pydantic.cpython-311-x86_64-linux-gnu.so", "pydantic/__init__.py", "pydantic/fields.py",
                "pydantic/tool.sh", "typing_extensions-4.4.0.dist-info/METADATA",
                "typing_extensions-4.4.0.dist-info/RECORD", "typing_extensions.py"}));
  EXPECT_NE(fs::status(t / "out/pydantic/tool.sh").permissions() & fs::perms::owner_exec, fs::perms::none);

  auto deps = list_python_deps(t / "out");
  ASSERT_TRUE(deps.has_value()) << deps.error().message;
  ASSERT_EQ(deps->size(), 3u);
  EXPECT_EQ((*deps)[0].name, "fastapi");
  EXPECT_EQ((*deps)[0].version, "0.92.0");
  EXPECT_EQ((*deps)[0].files, 5u);
  EXPECT_EQ((*deps)[1].name, "pydantic");
  EXPECT_EQ((*deps)[1].files, 6u);
  EXPECT_EQ((*deps)[2].name, "typing_extensions");
  // The hash is sha256 over `sha256sum` lines of the files, sorted by path.
  std::string lines = sha256_hex("# one module\n") + "  typing_extensions.py\n";
  lines = sha256_hex("Name: typing_extensions\nVersion: 4.4.0\n") +
          "  typing_extensions-4.4.0.dist-info/METADATA\n" +
          sha256_hex("typing_extensions.py,,\ntyping_extensions-4.4.0.dist-info/METADATA,,\n") +
          "  typing_extensions-4.4.0.dist-info/RECORD\n" + lines;
  EXPECT_EQ((*deps)[2].sha256, sha256_hex(lines));
}

TEST(PythonDeps, AChangedFileChangesOnlyItsDistributionsHash) {
  TempDir t;
  make_site(t / "site");
  auto reqs = parse_pinned_requirements("pydantic\nfastapi\n", "req.txt");
  ASSERT_TRUE(reqs.has_value());
  ASSERT_TRUE(copy_installed_distributions(*reqs, t / "site", t / "out", "req.txt").ok());
  auto before = list_python_deps(t / "out");
  ASSERT_TRUE(before.has_value());
  write(t / "out/pydantic/fields.py", "class Field: pass\n");
  auto after = list_python_deps(t / "out");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ((*after)[0].sha256, (*before)[0].sha256);  // fastapi
  EXPECT_NE((*after)[1].sha256, (*before)[1].sha256);  // pydantic
}

TEST(PythonDeps, AMissingOrWronglyPinnedDistributionNamesTheLine) {
  TempDir t;
  make_site(t / "site");
  auto reqs = parse_pinned_requirements("fastapi==0.100.0\nstarlette\nidna\n", "req.txt");
  ASSERT_TRUE(reqs.has_value());
  Status s = copy_installed_distributions(*reqs, t / "site", t / "out", "req.txt");
  ASSERT_FALSE(s.ok());
  const std::string& m = s.error().message;
  EXPECT_NE(m.find("req.txt:1: 'fastapi==0.100.0' is pinned, but " + (t / "site").string() + " has 0.92.0"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("req.txt:2: 'starlette' is not installed in " + (t / "site").string()), std::string::npos)
      << m;
  EXPECT_EQ(m.find("idna"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(t / "out/idna"));  // nothing is copied while anything is wrong
}

TEST(PythonDeps, MetadataWithoutNameOrFileListIsRefusedNamingIt) {
  TempDir t;
  write(t / "bad-1.0.dist-info/METADATA", "Summary: nothing\n");
  write(t / "bad-1.0.dist-info/RECORD", "");
  auto deps = list_python_deps(t.path());
  ASSERT_FALSE(deps.has_value());
  EXPECT_NE(deps.error().message.find("bad-1.0.dist-info/METADATA: no Name: and Version: header"),
            std::string::npos)
      << deps.error().message;
  TempDir u;
  write(u / "apt-2.6.egg-info", "Name: apt\nVersion: 2.6\n");
  auto single = list_python_deps(u.path());
  ASSERT_FALSE(single.has_value());
  EXPECT_NE(single.error().message.find("apt-2.6.egg-info is a single file"), std::string::npos);
}

}  // namespace
}  // namespace villager::artifact
