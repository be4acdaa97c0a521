#include "base/error.h"

namespace villager {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not_found";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kTimeout:
      return "timeout";
    case Code::kConflict:
      return "conflict";
    case Code::kFailedPrecondition:
      return "failed_precondition";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

Error Error::context(std::string_view ctx) const {
  Error e = *this;
  e.message = std::string(ctx) + ": " + message;
  return e;
}

Error NotFound(std::string m) {
  return {Code::kNotFound, std::move(m)};
}
Error InvalidArgument(std::string m) {
  return {Code::kInvalidArgument, std::move(m)};
}
Error PermissionDenied(std::string m) {
  return {Code::kPermissionDenied, std::move(m)};
}
Error Unauthenticated(std::string m) {
  return {Code::kUnauthenticated, std::move(m)};
}
Error Unavailable(std::string m) {
  return {Code::kUnavailable, std::move(m)};
}
Error Timeout(std::string m) {
  return {Code::kTimeout, std::move(m)};
}
Error Conflict(std::string m) {
  return {Code::kConflict, std::move(m)};
}
Error FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
Error Internal(std::string m) {
  return {Code::kInternal, std::move(m)};
}

}  // namespace villager
