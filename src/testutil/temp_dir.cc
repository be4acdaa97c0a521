#include "testutil/temp_dir.h"

#include <cstdlib>

#include "base/fs.h"

namespace villager {

TempDir::TempDir() {
  auto p = make_temp_dir("villager-test-");
  if (!p) std::abort();
  path_ = *p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace villager
