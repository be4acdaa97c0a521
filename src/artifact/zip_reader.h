#pragma once
// Reads a zip held in memory into its entries, in archive order (libarchive). Shared by unpack and diff;
// the whole content is loaded, which suits service packages (tens of MB), not arbitrary archives.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace villager::artifact {

struct ZipEntry {
  std::string path;
  bool is_dir = false;
  bool is_regular = false;  // neither a directory nor a regular file: a link or device, never unpacked
  uint32_t mode = 0;        // permission bits only
  int64_t mtime = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  std::string content;
};

Result<std::vector<ZipEntry>> read_zip(std::string_view bytes);

}  // namespace villager::artifact
