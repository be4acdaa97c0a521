#pragma once
// FileLock: an exclusive flock(2) on a lock file, held for the object's lifetime. The kernel drops it when
// the holder exits, killed or not, so a crash never leaves a stale lock behind.

#include <filesystem>

#include "base/error.h"

namespace villager {

class FileLock {
 public:
  // Blocks until granted.
  static Result<FileLock> acquire(const std::filesystem::path& path);
  // Does not wait: Conflict when another process holds it.
  static Result<FileLock> try_acquire(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace villager
