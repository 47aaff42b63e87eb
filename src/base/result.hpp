// Errors as values. Every fallible operation returns Result<T>; the error carries a code
// that maps to one HTTP status and an operator-readable message. Messages are internal:
// the device-facing data path never shows them to clients.
#pragma once

#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>
#include <utility>

namespace provgate {

enum class ErrorCode {
  kInvalidArgument,     // bad input from an operator or a manifest (400)
  kNotFound,            // no such tenant / device / line (404)
  kAlreadyExists,       // duplicate device, tenant (409)
  kPermissionDenied,    // policy refuses (403)
  kFailedPrecondition,  // state does not allow the operation (409)
  kUnavailable,         // store busy, resource exhausted (503)
  kInternal,            // bug or environment failure (500)
};

const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  static Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Error PermissionDenied(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }
  static Error FailedPrecondition(std::string m) { return {ErrorCode::kFailedPrecondition, std::move(m)}; }
  static Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
};

// Thrown only by Result::value() on an error, i.e. on a programming mistake or at start-up
// where a failure is fatal anyway.
class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(const Error& e) : std::runtime_error(e.message), error_(e) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;
using Status = boost::system::result<void, Error>;

inline Status Ok() { return {}; }

}  // namespace provgate

// Propagates an error: PG_TRY(auto x, Expr()); or PG_TRY_STATUS(Expr());
// `decl` is a declaration ("auto x"), which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define PG_CONCAT_INNER(a, b) a##b
#define PG_CONCAT(a, b) PG_CONCAT_INNER(a, b)
#define PG_TRY(decl, expr)                                                    \
  auto PG_CONCAT(pg_r_, __LINE__) = (expr);                                   \
  if (!PG_CONCAT(pg_r_, __LINE__)) return PG_CONCAT(pg_r_, __LINE__).error(); \
  decl = std::move(*PG_CONCAT(pg_r_, __LINE__))
// NOLINTEND(bugprone-macro-parentheses)
#define PG_TRY_STATUS(expr)           \
  do {                                \
    auto pg_s_ = (expr);              \
    if (!pg_s_) return pg_s_.error(); \
  } while (0)
