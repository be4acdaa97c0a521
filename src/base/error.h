#pragma once
// Error and Result<T>: the one way fallible code reports failure. Result follows std::expected's member
// names (has_value, value, error, operator*) so it can be swapped for std::expected under C++23.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace villager {

enum class Code {
  kOk,
  kNotFound,
  kInvalidArgument,
  kPermissionDenied,
  kUnauthenticated,
  kUnavailable,
  kTimeout,
  kConflict,
  kFailedPrecondition,
  kInternal,
};

// Name of a code, for logs and JSON ("not_found").
std::string_view code_name(Code code);

struct Error {
  Code code = Code::kInternal;
  std::string message;

  // Returns a copy whose message is "context: message", keeping the code.
  Error context(std::string_view ctx) const;
  std::string to_string() const { return message; }
};

Error NotFound(std::string message);
Error InvalidArgument(std::string message);
Error PermissionDenied(std::string message);
Error Unauthenticated(std::string message);
Error Unavailable(std::string message);
Error Timeout(std::string message);
Error Conflict(std::string message);
Error FailedPrecondition(std::string message);
Error Internal(std::string message);

// Tag that lets `return Unexpected(err)` read like std::unexpected.
struct Unexpected {
  Error error;
  explicit Unexpected(Error e) : error(std::move(e)) {}
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T value_or(T other) const { return has_value() ? std::get<0>(v_) : std::move(other); }
  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

// Status is Result<void>: ok() or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}

  bool has_value() const { return ok_; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return err_;
  }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;
inline Status Ok() {
  return Status();
}

}  // namespace villager

// Propagates an error from an expression returning Status/Result, adding no context.
#define VILLAGER_RETURN_IF_ERROR(expr)                        \
  do {                                                        \
    auto _villager_s = (expr);                                \
    if (!_villager_s.has_value()) return _villager_s.error(); \
  } while (0)
