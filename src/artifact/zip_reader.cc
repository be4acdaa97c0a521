#include "artifact/zip_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <sys/stat.h>

#include <memory>

namespace villager::artifact {

namespace {
constexpr size_t kReadChunk = 64 * 1024;

// libarchive converts UTF-8 entry names to the thread's locale and gives up on non-ASCII names under
// the "C" locale villager runs in. This switches only the calling thread to C.UTF-8 while reading.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() : loc_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0))) {
    if (loc_) old_ = ::uselocale(loc_);
  }
  ~ScopedUtf8Locale() {
    if (!loc_) return;
    ::uselocale(old_);
    ::freelocale(loc_);
  }

 private:
  locale_t loc_;
  locale_t old_ = static_cast<locale_t>(0);
};
}  // namespace

Result<std::vector<ZipEntry>> read_zip(std::string_view bytes) {
  ScopedUtf8Locale utf8;
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_zip(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return InvalidArgument(std::string("not a zip: ") + archive_error_string(a.get()));
  std::vector<ZipEntry> out;
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return InvalidArgument(std::string("reading zip entry: ") + archive_error_string(a.get()));
    ZipEntry z;
    // Names were written as UTF-8; asking for them in the host locale could fail under LANG=C.
    const char* p = archive_entry_pathname_utf8(e);
    if (p == nullptr) p = archive_entry_pathname(e);
    z.path = p ? p : "";
    mode_t type = archive_entry_filetype(e);
    z.is_dir = type == AE_IFDIR;
    z.is_regular = type == AE_IFREG;
    z.mode = archive_entry_perm(e) & 07777;
    z.mtime = archive_entry_mtime(e);
    z.uid = archive_entry_uid(e);
    z.gid = archive_entry_gid(e);
    char buf[kReadChunk];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) return InvalidArgument("reading zip entry " + z.path + ": " + archive_error_string(a.get()));
      if (n == 0) break;
      z.content.append(buf, static_cast<size_t>(n));
    }
    out.push_back(std::move(z));
  }
  return out;
}

}  // namespace villager::artifact
