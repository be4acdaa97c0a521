#pragma once
// SecretStore: one environment's secrets, `<state_dir>/secrets/<env>.enc`. Reads verify the whole file
// (secret_file.h); every change is a read-modify-write under an exclusive flock on `<env>.lock` beside
// the file, written atomically (temp file, fsync, rename), so two writers never lose each other's change
// and a reader never sees half a file. Every value returned is a Secret, registered for redaction.

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/redact.h"
#include "secrets/key.h"
#include "secrets/secret_file.h"

namespace villager::secrets {

struct SecretInfo {
  std::string name;
  int version = 0;
  std::string updated_at;
  bool removed = false;
};

// What set_many did with one name.
struct SetOutcome {
  std::string name;
  int version = 0;
  enum Kind { kNew, kChanged, kUnchanged } kind = kNew;
};

class SecretStore {
 public:
  struct Options {
    // Generate and write a key file when the key is missing and no secrets file exists yet.
    bool create_key = false;
    Clock* clock = nullptr;  // for updated_at; default real_clock()
  };

  // Opens and verifies the store of `env`. A missing file is an empty store (a key is then needed only to
  // write). Errors: unknown key with a file present, wrong key, tampered file, bad environment name.
  static Result<SecretStore> open(const std::filesystem::path& state_dir, const std::string& env,
                                  const KeySource& keys, Options options);
  static Result<SecretStore> open(const std::filesystem::path& state_dir, const std::string& env,
                                  const KeySource& keys) {
    return open(state_dir, env, keys, Options{});
  }

  const std::string& env() const { return env_; }
  const std::filesystem::path& file_path() const { return file_; }
  // True when open() generated the key (the caller tells the user where it went).
  bool key_created() const { return key_created_; }
  // Where the key came from: "$VILLAGER_SECRETS_KEY_X" or the key file path; empty when there is none.
  std::string key_origin() const { return key_ ? key_->origin() : ""; }

  // The latest version of `name`. NotFound when it was never set or its latest version is a removal.
  Result<Secret> get(const std::string& name) const;
  // A given version (for rollback). NotFound when absent or a removal.
  Result<Secret> get(const std::string& name, int version) const;
  // The current secrets (latest version not a removal), sorted by name. Never values.
  std::vector<SecretInfo> list() const;
  // Every (name, version) in the file, removals included.
  std::vector<SecretInfo> history() const;
  // name -> latest version, current secrets only.
  std::map<std::string, int> versions() const;

  // Stores `value` as the next version of `name` and returns it; an unchanged value keeps its version.
  Result<int> set(const std::string& name, std::string_view value);
  // Sets several in one locked write: all or nothing.
  Result<std::vector<SetOutcome>> set_many(const std::vector<std::pair<std::string, std::string>>& values);
  // Marks `name` removed with a new version (older versions are kept for rollback); returns that version.
  Result<int> rm(const std::string& name);
  // Re-encrypts every line under a fresh key. The new key goes to the key file (the old one is kept as
  // `<env>.key.old`); when the key came from $VILLAGER_SECRETS_KEY_<ENV>, it goes to `<env>.key.new`,
  // which the caller must move into that variable. Returns the path of the new key.
  Result<std::filesystem::path> rotate_key();

 private:
  SecretStore() = default;
  // Runs `change` on a freshly read copy under the lock, then writes the result.
  Status mutate(const std::function<Status(OpenedFile&)>& change);
  Status reload_locked(OpenedFile& into) const;
  std::string now() const;

  std::filesystem::path state_dir_, file_, lock_;
  std::string env_;
  KeySource keys_;
  std::optional<Key> key_;
  bool key_created_ = false;
  Clock* clock_ = nullptr;
  OpenedFile data_;
};

// The file of `env` under `state_dir`: <state_dir>/secrets/<env>.enc
std::filesystem::path secrets_file(const std::filesystem::path& state_dir, std::string_view env);

}  // namespace villager::secrets
