// Management API endpoints: parsing, region inference, and botocore's path encoding.
#include "apigw/mgmt/endpoint.hpp"

#include "apigw/mgmt/error.hpp"

#include <fmt/format.h>

namespace apigw::mgmt {

result<endpoint> parse_endpoint(std::string_view url) {
  auto parsed = net::parse_url(url);
  if (!parsed) return failure{error::invalid_endpoint, parsed.error().message};
  if (!parsed->query.empty() || url.find('?') != std::string_view::npos) {
    return failure{error::invalid_endpoint,
                   fmt::format("invalid endpoint \"{}\": a query is not allowed (expected https://host/stage)", url)};
  }
  endpoint ep;
  ep.origin = parsed->origin;
  ep.base_path = parsed->path;
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  if (!ep.base_path.empty() && ep.base_path.front() != '/') ep.base_path.insert(0, "/");
  ep.region = region_from_host(ep.origin.host);
  ep.url = std::string(url);
  while (!ep.url.empty() && ep.url.back() == '/') ep.url.pop_back();
  return ep;
}

std::string region_from_host(std::string_view host) {
  // {api}.execute-api.{region}.amazonaws.com[.cn]
  constexpr std::string_view marker = ".execute-api.";
  const auto at = host.find(marker);
  if (at == std::string_view::npos || at == 0) return {};
  std::string_view rest = host.substr(at + marker.size());
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  const std::string_view suffix = rest.substr(dot);
  if (suffix != ".amazonaws.com" && suffix != ".amazonaws.com.cn") return {};
  return std::string(rest.substr(0, dot));
}

std::string encode_connection_id(std::string_view id) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(id.size() + 8);
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4U]);
      out.push_back(hex[c & 15U]);
    }
  }
  return out;
}

std::string connection_path(const endpoint& ep, std::string_view id) {
  std::string path;
  path.reserve(ep.base_path.size() + 14 + id.size() + 8);
  path += ep.base_path;
  path += "/@connections/";
  path += encode_connection_id(id);
  return path;
}

}  // namespace apigw::mgmt
