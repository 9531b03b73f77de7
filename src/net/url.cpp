// URL parsing over Boost.URL, with messages that say what is wrong.
#include "apigw/net/url.hpp"

#include "apigw/net/error.hpp"

#include <fmt/format.h>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace apigw::net {

namespace {
std::uint16_t default_port(net::scheme s) noexcept {
  return s == net::scheme::https ? 443 : 80;
}
}  // namespace

std::string origin::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) h += ":" + std::to_string(port);
  return h;
}

std::string origin::key() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("{}://{}:{}", scheme == net::scheme::https ? "https" : "http", h, port);
}

result<url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return failure{error::invalid_url, fmt::format("invalid URL \"{}\": {}", text, why)};
  };
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return bad("not an absolute URL (expected http://host[:port]/path or https://...)");
  const boost::urls::url_view& u = *parsed;
  url out;
  if (u.scheme_id() == boost::urls::scheme::https) {
    out.origin.scheme = net::scheme::https;
  } else if (u.scheme_id() == boost::urls::scheme::http) {
    out.origin.scheme = net::scheme::http;
  } else {
    return bad(fmt::format("scheme \"{}\" is not http or https", std::string_view(u.scheme())));
  }
  if (!u.has_authority() || u.encoded_host().empty()) return bad("no host");
  if (u.has_userinfo()) return bad("user info (user:password@) is not allowed");
  if (u.has_fragment()) return bad("a fragment (#...) is not allowed");
  out.origin.host = u.host_address();
  if (u.has_port() && !u.port().empty()) {
    const std::string_view text_port = u.port();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text_port.data(), text_port.data() + text_port.size(), value);
    if (ec != std::errc{} || end != text_port.data() + text_port.size() || value == 0 || value > 65535) {
      return bad(fmt::format("port \"{}\" is out of range", text_port));
    }
    out.origin.port = static_cast<std::uint16_t>(value);
  } else {
    out.origin.port = default_port(out.origin.scheme);
  }
  out.path = u.encoded_path();
  if (u.has_query()) out.query = u.encoded_query();
  return out;
}

bool is_ip_literal(std::string_view host) noexcept {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace apigw::net
