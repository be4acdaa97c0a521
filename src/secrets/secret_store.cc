#include "secrets/secret_store.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "base/file_lock.h"
#include "base/fs.h"

namespace villager::secrets {

namespace {

// Values go into process environments: no NUL bytes, and a bound that keeps the file reviewable.
constexpr size_t kMaxValueBytes = 64 * 1024;

Status check_value(const std::string& name, std::string_view value) {
  if (value.empty()) return InvalidArgument("secret " + name + ": the value is empty");
  if (value.find('\0') != std::string_view::npos)
    return InvalidArgument("secret " + name +
                           ": the value contains a NUL byte (it could not be passed in an environment)");
  if (value.size() > kMaxValueBytes)
    return InvalidArgument("secret " + name + ": the value is " + std::to_string(value.size()) +
                           " bytes, over the " + std::to_string(kMaxValueBytes) + "-byte limit");
  return Ok();
}

Status check_name(const std::string& name) {
  if (!valid_secret_name(name))
    return InvalidArgument("'" + name +
                           "' is not a valid secret name (letters, digits and _, not starting with a digit)");
  return Ok();
}

// Index of the latest line of `name`, or -1.
long latest_index(const SecretFile& f, const std::string& name) {
  long found = -1;
  for (size_t i = 0; i < f.lines.size(); ++i)
    if (f.lines[i].name == name) found = static_cast<long>(i);
  return found;
}

// Inserts a new line keeping the (name, version) order.
void insert_line(OpenedFile& of, SecretLine line, Secret value) {
  auto pos = std::lower_bound(
      of.file.lines.begin(), of.file.lines.end(), line,
      [](const auto& a, const auto& b) { return std::tie(a.name, a.version) < std::tie(b.name, b.version); });
  size_t idx = static_cast<size_t>(pos - of.file.lines.begin());
  of.file.lines.insert(pos, std::move(line));
  of.values.insert(of.values.begin() + static_cast<long>(idx), std::move(value));
}

Status ensure_secrets_dir(const fs::path& dir) {
  VILLAGER_RETURN_IF_ERROR(ensure_dir(dir));
  // The .enc files are meant to be committed; lock and temp files are not.
  if (!fs::exists(dir / ".gitignore"))
    VILLAGER_RETURN_IF_ERROR(write_file_atomic(dir / ".gitignore", "*.lock\n.*.tmp*\n"));
  return Ok();
}

}  // namespace

fs::path secrets_file(const fs::path& state_dir, std::string_view env) {
  return state_dir / "secrets" / (std::string(env) + ".enc");
}

Result<SecretStore> SecretStore::open(const fs::path& state_dir, const std::string& env,
                                      const KeySource& keys, Options options) {
  if (!valid_env_name(env)) return InvalidArgument("'" + env + "' is not a valid environment name");
  SecretStore s;
  s.state_dir_ = state_dir;
  s.env_ = env;
  s.keys_ = keys;
  s.file_ = secrets_file(state_dir, env);
  s.lock_ = s.file_.parent_path() / (env + ".lock");
  s.clock_ = options.clock ? options.clock : &real_clock();
  s.data_.file.env = env;

  auto key = load_key(keys);
  if (!key && key.error().code == Code::kNotFound && options.create_key && !fs::exists(s.file_)) {
    // Under the lock, so two first writers do not each create a different key.
    VILLAGER_RETURN_IF_ERROR(ensure_secrets_dir(s.file_.parent_path()));
    auto lock = FileLock::acquire(s.lock_);
    if (!lock) return lock.error();
    key = load_key(keys);
    if (!key && key.error().code == Code::kNotFound && !fs::exists(s.file_) && !keys.key_file.empty()) {
      Key fresh = Key::generate(keys.key_file.string());
      if (auto w = write_key_file(keys.key_file, fresh); !w.ok())
        return w.error().context("secrets for " + env);
      key = std::move(fresh);
      s.key_created_ = true;
    }
  }
  if (key) {
    s.key_ = std::move(*key);
  } else if (key.error().code != Code::kNotFound || fs::exists(s.file_)) {
    return key.error().context("secrets for " + env);
  }
  if (fs::exists(s.file_)) VILLAGER_RETURN_IF_ERROR(s.reload_locked(s.data_));
  return s;
}

Status SecretStore::reload_locked(OpenedFile& into) const {
  if (!fs::exists(file_)) {
    into = OpenedFile{};
    into.file.env = env_;
    return Ok();
  }
  if (!key_) return FailedPrecondition("secrets for " + env_ + ": no key to open " + file_.string());
  auto text = read_file(file_);
  if (!text) return text.error().context("secrets for " + env_);
  auto opened = parse_and_verify(*text, env_, *key_, file_.string());
  if (!opened) return opened.error();
  into = std::move(*opened);
  return Ok();
}

Status SecretStore::mutate(const std::function<Status(OpenedFile&)>& change) {
  if (!key_)
    return NotFound("secrets for " + env_ + ": no key ($" + keys_.env_var + " is not set and " +
                    keys_.key_file.string() + " does not exist)");
  VILLAGER_RETURN_IF_ERROR(ensure_secrets_dir(file_.parent_path()));
  auto lock = FileLock::acquire(lock_);
  if (!lock) return lock.error();
  OpenedFile fresh;
  VILLAGER_RETURN_IF_ERROR(reload_locked(fresh));
  VILLAGER_RETURN_IF_ERROR(change(fresh));
  if (auto w = write_file_atomic(file_, serialize(fresh.file, *key_), fs::perms(0600)); !w.ok())
    return w.error().context("secrets for " + env_);
  data_ = std::move(fresh);
  return Ok();
}

std::string SecretStore::now() const {
  return format_rfc3339(clock_->now());
}

Result<Secret> SecretStore::get(const std::string& name) const {
  long i = latest_index(data_.file, name);
  if (i < 0) return NotFound("secret " + name + " is not set in " + env_);
  const auto& l = data_.file.lines[static_cast<size_t>(i)];
  if (l.removed)
    return NotFound("secret " + name + " was removed from " + env_ + " (v" + std::to_string(l.version) + ")");
  return data_.values[static_cast<size_t>(i)];
}

Result<Secret> SecretStore::get(const std::string& name, int version) const {
  for (size_t i = 0; i < data_.file.lines.size(); ++i) {
    const auto& l = data_.file.lines[i];
    if (l.name != name || l.version != version) continue;
    if (l.removed)
      return NotFound("secret " + name + " v" + std::to_string(version) + " in " + env_ +
                      " marks its removal");
    return data_.values[i];
  }
  return NotFound("secret " + name + " has no version " + std::to_string(version) + " in " + env_);
}

std::vector<SecretInfo> SecretStore::history() const {
  std::vector<SecretInfo> out;
  for (const auto& l : data_.file.lines) out.push_back({l.name, l.version, l.updated_at, l.removed});
  return out;
}

std::vector<SecretInfo> SecretStore::list() const {
  std::vector<SecretInfo> out;
  const auto& lines = data_.file.lines;
  for (size_t i = 0; i < lines.size(); ++i) {
    bool latest = i + 1 == lines.size() || lines[i + 1].name != lines[i].name;
    if (latest && !lines[i].removed)
      out.push_back({lines[i].name, lines[i].version, lines[i].updated_at, false});
  }
  return out;
}

std::map<std::string, int> SecretStore::versions() const {
  std::map<std::string, int> out;
  for (const auto& i : list()) out[i.name] = i.version;
  return out;
}

Result<std::vector<SetOutcome>> SecretStore::set_many(
    const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [name, value] : values) {
    VILLAGER_RETURN_IF_ERROR(check_name(name));
    VILLAGER_RETURN_IF_ERROR(check_value(name, value));
  }
  std::vector<SetOutcome> outcomes;
  std::string stamp = now();
  Status s = mutate([&](OpenedFile& of) -> Status {
    outcomes.clear();
    for (const auto& [name, value] : values) {
      long i = latest_index(of.file, name);
      SetOutcome o{name, 1, SetOutcome::kNew};
      if (i >= 0) {
        const auto& l = of.file.lines[static_cast<size_t>(i)];
        if (!l.removed && of.values[static_cast<size_t>(i)].reveal() == value) {
          outcomes.push_back({name, l.version, SetOutcome::kUnchanged});
          continue;
        }
        o.version = l.version + 1;
        o.kind = l.removed ? SetOutcome::kNew : SetOutcome::kChanged;
      }
      insert_line(of, seal_line(*key_, env_, name, o.version, stamp, false, value), Secret(value));
      outcomes.push_back(o);
    }
    return Ok();
  });
  if (!s.ok()) return s.error();
  return outcomes;
}

Result<int> SecretStore::set(const std::string& name, std::string_view value) {
  auto r = set_many({{name, std::string(value)}});
  if (!r) return r.error();
  return r->front().version;
}

Result<int> SecretStore::rm(const std::string& name) {
  VILLAGER_RETURN_IF_ERROR(check_name(name));
  int version = 0;
  std::string stamp = now();
  Status s = mutate([&](OpenedFile& of) -> Status {
    long i = latest_index(of.file, name);
    if (i < 0 || of.file.lines[static_cast<size_t>(i)].removed)
      return NotFound("secret " + name + " is not set in " + env_);
    version = of.file.lines[static_cast<size_t>(i)].version + 1;
    insert_line(of, seal_line(*key_, env_, name, version, stamp, true, ""), Secret());
    return Ok();
  });
  if (!s.ok()) return s.error();
  return version;
}

Result<fs::path> SecretStore::rotate_key() {
  if (!key_) return NotFound("secrets for " + env_ + ": no key to rotate");
  bool from_env_var = !keys_.env_var.empty() && key_->origin() == keys_.env_var;
  if (keys_.key_file.empty())
    return FailedPrecondition("secrets for " + env_ + ": no key file to write the new key to");
  fs::path new_key_path = keys_.key_file.string() + ".new";
  fs::path old_key_path = keys_.key_file.string() + ".old";
  Key fresh = Key::generate(from_env_var ? keys_.env_var : keys_.key_file.string());
  Key old = *key_;
  Status s = mutate([&](OpenedFile& of) -> Status {
    // The new key reaches disk before the file that needs it, so a crash never leaves a file no key opens.
    VILLAGER_RETURN_IF_ERROR(write_key_file(new_key_path, fresh));
    for (size_t i = 0; i < of.file.lines.size(); ++i) {
      auto& l = of.file.lines[i];
      l = seal_line(fresh, env_, l.name, l.version, l.updated_at, l.removed, of.values[i].reveal());
    }
    key_ = fresh;  // mutate() serializes with key_
    return Ok();
  });
  if (!s.ok()) {
    key_ = old;
    return s.error();
  }
  if (from_env_var) return new_key_path;
  std::error_code ec;
  if (fs::exists(keys_.key_file)) fs::rename(keys_.key_file, old_key_path, ec);
  if (!ec) fs::rename(new_key_path, keys_.key_file, ec);
  if (ec)
    return Internal("secrets for " + env_ + ": re-encrypted with the new key in " + new_key_path.string() +
                    " but could not move it to " + keys_.key_file.string() + ": " + ec.message());
  return keys_.key_file;
}

}  // namespace villager::secrets
