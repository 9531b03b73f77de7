// Private helpers of the net module: conversions between the project's HTTP types and Beast's,
// and the mapping of Beast/Asio error codes onto net::error. Not installed; Beast stays here.
#pragma once

#include "apigw/net/error.hpp"
#include "apigw/net/http_message.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace apigw::net::detail {

namespace http = boost::beast::http;

// to_headers: the header lines of a Beast message, in order.
template <bool is_request>
http_headers to_headers(const http::header<is_request, http::fields>& h) {
  http_headers out;
  out.reserve(8);
  for (const auto& f : h) out.push_back({std::string(f.name_string()), std::string(f.value())});
  return out;
}

// set_method: the Beast verb for `method`, or the method string verbatim when Beast knows none.
inline void set_method(http::request<http::string_body>& r, std::string_view method) {
  const http::verb v = http::string_to_verb(method);
  if (v == http::verb::unknown) {
    r.method_string(method);
  } else {
    r.method(v);
  }
}

// is_timeout: true for Beast's stream timeout and Asio's timed_out.
bool is_timeout(const boost::system::error_code& ec) noexcept;

}  // namespace apigw::net::detail
