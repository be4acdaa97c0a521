#pragma once
// FileLock: an exclusive flock(2) on a lock file, held for the object's lifetime. Blocks until granted.

#include <filesystem>

#include "base/error.h"

namespace villager::secrets {

class FileLock {
 public:
  static Result<FileLock> acquire(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace villager::secrets
