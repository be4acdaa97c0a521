#include "artifact/zip_diff.h"

#include <cstdio>

#include "artifact/zip_reader.h"

namespace villager::artifact {

namespace {
std::string octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}
}  // namespace

Result<std::optional<std::string>> first_zip_difference(std::string_view a, std::string_view b) {
  auto ea = read_zip(a);
  if (!ea) return ea.error().context("reading first zip");
  auto eb = read_zip(b);
  if (!eb) return eb.error().context("reading second zip");
  size_t n = std::min(ea->size(), eb->size());
  for (size_t i = 0; i < n; ++i) {
    const ZipEntry& x = (*ea)[i];
    const ZipEntry& y = (*eb)[i];
    std::string where = "entry " + std::to_string(i + 1) + " '" + x.path + "'";
    if (x.path != y.path) return std::optional<std::string>(where + ": path differs ('" + y.path + "')");
    if (x.mode != y.mode)
      return std::optional<std::string>(where + ": mode " + octal(x.mode) + " vs " + octal(y.mode));
    if (x.mtime != y.mtime)
      return std::optional<std::string>(where + ": mtime " + std::to_string(x.mtime) + " vs " +
                                        std::to_string(y.mtime));
    if (x.uid != y.uid || x.gid != y.gid) return std::optional<std::string>(where + ": owner differs");
    if (x.is_dir != y.is_dir || x.is_regular != y.is_regular)
      return std::optional<std::string>(where + ": type differs");
    if (x.content != y.content) return std::optional<std::string>(where + ": content differs");
  }
  if (ea->size() != eb->size()) {
    const auto& longer = ea->size() > eb->size() ? *ea : *eb;
    return std::optional<std::string>("entry " + std::to_string(n + 1) + " '" + longer[n].path +
                                      "': present in only one zip");
  }
  if (a != b) return std::optional<std::string>("all entries match but the zip metadata differs");
  return std::optional<std::string>();
}

}  // namespace villager::artifact
