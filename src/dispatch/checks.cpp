// The pure checks of integration requests: channel names, origins, hosts, client addresses.
#include "apigw/dispatch/checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace apigw::dispatch {
namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_host_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '[' || c == ']' || c == ':';
}

// is_valid_origin_host: a host name or IPv4 address (no ':' or brackets), or a bracketed IPv6
// literal. A stray bracket or colon is refused rather than split somewhere: "http://[::80" would
// otherwise become "http://[:" (port 80 removed), which no longer normalises.
bool is_valid_origin_host(std::string_view host) noexcept {
  if (host.empty()) return false;
  if (!host.starts_with('[')) return host.find_first_of("[]:") == std::string_view::npos;
  if (host.size() < 3 || !host.ends_with(']')) return false;
  return std::ranges::all_of(host.substr(1, host.size() - 2), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
  });
}

}  // namespace

bool is_valid_channel_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > k_max_channel_name) return false;
  return std::ranges::all_of(
      name, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-'; });
}

std::optional<std::string> normalize_origin(std::string_view origin) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  const auto scheme = lower(origin.substr(0, sep));
  if (!std::ranges::all_of(scheme, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
      })) {
    return std::nullopt;
  }
  auto authority = origin.substr(sep + 3);
  if (authority.ends_with('/')) authority.remove_suffix(1);  // some clients send "https://host/"
  if (authority.empty() || !std::ranges::all_of(authority, is_host_char)) return std::nullopt;
  auto host_port = lower(authority);
  // Split off the port (after the last ':' outside brackets).
  std::string host = host_port;
  std::string port;
  const auto close = host_port.rfind(']');
  const auto colon = host_port.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    if (port.empty() || !std::ranges::all_of(port, [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  }
  if (!is_valid_origin_host(host)) return std::nullopt;
  if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) port.clear();
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

bool origin_allowed(std::string_view origin, std::span<const std::string> allowed) {
  const auto o = normalize_origin(origin);
  if (!o) return false;
  return std::ranges::any_of(allowed, [&](const std::string& a) {
    const auto n = normalize_origin(a);
    return n && *n == *o;
  });
}

std::string host_without_port(std::string_view host) {
  host = trim(host);
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    return lower(close == std::string_view::npos ? host : host.substr(1, close - 1));
  }
  const auto colon = host.find(':');
  // More than one colon: a bare IPv6 address without brackets; keep it whole.
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return lower(host);
}

bool host_allowed(std::string_view host, std::span<const std::string> allowed) {
  if (allowed.empty()) return true;
  const auto h = host_without_port(host);
  if (h.empty()) return false;
  return std::ranges::any_of(allowed, [&](const std::string& entry) {
    if (entry == "*") return true;
    const auto e = lower(entry);
    if (e.starts_with('.')) {
      const std::string_view domain = std::string_view{e}.substr(1);
      return h == domain || (h.size() > e.size() && h.ends_with(e));
    }
    return h == host_without_port(e);
  });
}

bool origin_matches_host(std::string_view origin, std::string_view host) {
  const auto o = normalize_origin(origin);
  if (!o) return false;
  const auto authority = std::string_view{*o}.substr(o->find("://") + 3);
  const auto h = host_without_port(host);
  return !h.empty() && host_without_port(authority) == h;
}

bool is_ip_address(std::string_view s) noexcept {
  if (s.empty() || s.size() > 45) return false;
  char buf[46] = {};
  std::copy(s.begin(), s.end(), buf);
  unsigned char out[16];
  return ::inet_pton(AF_INET, buf, out) == 1 || ::inet_pton(AF_INET6, buf, out) == 1;
}

std::optional<std::string> client_ip(std::string_view forwarded_for, std::size_t trusted_hops) {
  std::vector<std::string_view> entries;
  std::string_view rest = forwarded_for;
  while (true) {
    const auto comma = rest.find(',');
    entries.push_back(trim(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (trusted_hops == 0) trusted_hops = 1;
  const auto index = entries.size() >= trusted_hops ? entries.size() - trusted_hops : 0;
  const auto chosen = entries[index];
  if (!is_ip_address(chosen)) return std::nullopt;
  return std::string{chosen};
}

std::string gateway_user_agent(std::string_view api_id) {
  return "AmazonAPIGateway_" + std::string{api_id};
}

}  // namespace apigw::dispatch
