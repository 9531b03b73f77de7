// Header helpers for the project's HTTP types.
#include "apigw/net/http_message.hpp"

#include <algorithm>

namespace apigw::net {

std::optional<std::string_view> find_header(const http_headers& headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

void set_header(http_headers& headers, std::string_view name, std::string_view value) {
  std::erase_if(headers, [&](const http_header& h) { return iequals(h.name, name); });
  headers.push_back({std::string(name), std::string(value)});
}

}  // namespace apigw::net
