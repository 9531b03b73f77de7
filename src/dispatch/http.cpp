// Requests and responses of the backend: header, query and cookie lookups.
#include "apigw/dispatch/http.hpp"

#include "apigw/core/text.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>

namespace apigw::dispatch {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string percent_decode(std::string_view s, bool plus_is_space) {
  if (!plus_is_space) return percent_decode_lenient(s);
  std::string spaced(s);  // a literal '+' arrives as %2B, so this comes before the decoding
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  return percent_decode_lenient(spaced);
}

std::optional<std::string_view> request::header_value(std::string_view name) const noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return std::string_view{h.value};
  }
  return std::nullopt;
}

std::optional<std::string> request::query_value(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto key = percent_decode(pair.substr(0, eq));
    if (key != name) continue;
    return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::optional<std::string> request::cookie(std::string_view name) const {
  for (const auto& h : headers) {
    if (!iequals(h.name, "Cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      const auto pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
      auto value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return std::string{value};
    }
  }
  return std::nullopt;
}

response response::ok() {
  return {};
}

response response::json(unsigned status, const apigw::json::value& body) {
  response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

response response::text(unsigned status, std::string body) {
  response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

}  // namespace apigw::dispatch
