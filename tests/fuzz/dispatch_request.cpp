// Fuzz target: the untrusted parts of an integration request the backend parses: Origin, Host,
// X-Forwarded-For, the query string and the Cookie header (one per input line). Must never crash;
// a normalized origin normalizes to itself, a chosen client address is an IP literal, and a
// decoded channel the checks accept contains only [A-Za-z0-9_-].
#include "apigw/dispatch/checks.hpp"
#include "apigw/dispatch/http.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace apigw::dispatch;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  while (lines.size() < 4) {
    const auto nl = in.find('\n');
    lines.push_back(in.substr(0, nl));
    if (nl == std::string_view::npos) {
      in = {};
      break;
    }
    in = in.substr(nl + 1);
  }
  lines.push_back(in);
  lines.resize(5);
  const auto origin = lines[0];
  const auto host = lines[1];

  if (auto n = normalize_origin(origin); n) {
    if (normalize_origin(*n) != n) std::abort();
  }
  const std::vector<std::string> allowed{"https://example.com", std::string{origin}};
  (void)origin_allowed(origin, allowed);
  (void)origin_matches_host(origin, host);
  const std::vector<std::string> hosts{".example.com", std::string{host}, "*"};
  (void)host_allowed(host, hosts);
  for (std::size_t hops = 0; hops < 4; ++hops) {
    if (auto ip = client_ip(lines[2], hops); ip && !is_ip_address(*ip)) std::abort();
  }
  request r;
  r.query = std::string{lines[3]};
  r.headers.push_back({"Cookie", std::string{lines[4]}});
  if (auto ch = r.query_value("channel"); ch && is_valid_channel_name(*ch)) {
    for (const char c : *ch) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      if (!ok) std::abort();
    }
  }
  (void)r.query_value("ws_token");
  (void)r.cookie("apigw_session");
  (void)percent_decode(lines[3]);
  return 0;
}
