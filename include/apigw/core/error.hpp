// apigw/core/error.hpp: the error model shared by every module.
//
// Each module has one `enum class error` of its own (registered as a boost::system error category)
// and maps its codes onto the shared `apigw::condition`s below, so a caller can write
// `if (r.error() == apigw::condition::connection_gone)` whether the code came from the gateway,
// the sender or the store. `result<T>` carries either a value or a `failure`: an error code plus a
// human-readable detail ("message is 140000 bytes; the limit is 131072").
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <concepts>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace apigw {

using error_code = boost::system::error_code;

// condition: what a caller can act on, whatever module produced the error.
enum class condition {
  connection_gone = 1,  // the WebSocket connection no longer exists (410 GoneException)
  forbidden,            // refused by policy or credentials (403)
  payload_too_large,    // over the 128 KiB message limit (413)
  throttled,            // too many requests; retry later (429 LimitExceededException)
  server_error,         // the peer failed (5xx)
  network_error,        // connect/read/write failed, connection reset, TLS failure
  timeout,              // an operation ran out of time
  invalid_argument,     // the caller passed something malformed
  not_found,            // the named thing does not exist
  conflict,             // the thing already exists / state conflict
  unavailable,          // a dependency (database, file) cannot be used right now
};

namespace core {
// core::error: failures raised by core itself.
enum class error {
  invalid_argument = 1,
  payload_too_large,
  invalid_json,
  invalid_config,
  io_error,
  not_found,
  random_unavailable,
};
}  // namespace core

}  // namespace apigw

namespace boost::system {
template <>
struct is_error_condition_enum<apigw::condition> : std::true_type {};
template <>
struct is_error_code_enum<apigw::core::error> : std::true_type {};
}  // namespace boost::system

namespace apigw {

// condition_category: the category of `apigw::condition`.
const boost::system::error_category& condition_category() noexcept;
boost::system::error_condition make_error_condition(condition c) noexcept;

// is_retryable: true for conditions a retry with backoff may cure (throttled, server_error,
// network_error, timeout).
bool is_retryable(const error_code& ec) noexcept;

namespace core {

const boost::system::error_category& error_category() noexcept;
error_code make_error_code(error e) noexcept;

}  // namespace core

// failure: an error code and a message for people. Constructible from a bare code (the message is
// then the code's own) so modules can return codes where nothing more is worth saying.
struct failure {
  error_code code;
  std::string message;

  failure() = default;
  failure(error_code c) : code(c), message(c.message()) {}  // NOLINT(google-explicit-constructor)
  failure(error_code c, std::string m) : code(c), message(std::move(m)) {}
  template <class E>
  requires boost::system::is_error_code_enum<E>::value failure(E e)
      : failure(error_code(e)) {}  // NOLINT(google-explicit-constructor)
  template <class E>
  requires boost::system::is_error_code_enum<E>::value failure(E e, std::string m)
      : failure(error_code(e), std::move(m)) {}

  // what: "message" (or the code's message when the detail is empty).
  const std::string& what() const noexcept { return message; }
};

// Comparisons of a failure with a condition, a code or a module's error enum. Templates, so that
// no implicit conversion to `failure` makes `error_code == condition` ambiguous.
template <class F>
requires std::same_as<F, failure>
inline bool operator==(const F& f, condition c) noexcept {
  return f.code == c;
}
template <class F>
requires std::same_as<F, failure>
inline bool operator==(const F& f, const error_code& ec) noexcept {
  return f.code == ec;
}
template <class F, class E>
requires std::same_as<F, failure> && boost::system::is_error_code_enum<E>::value inline bool operator==(const F& f,
                                                                                                        E e) noexcept {
  return f.code == error_code(e);
}

// throw_exception_from_error: lets `result<T>::value()` throw a system_error carrying the message.
[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

// result<T>: a value or a failure.
template <class T>
using result = boost::system::result<T, failure>;

// ok(): the successful empty result.
inline result<void> ok() {
  return {};
}

}  // namespace apigw
