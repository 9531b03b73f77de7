// apigw/dispatch/checks.hpp: the pure checks the backend runs on integration requests: channel
// names, origins, hosts, the client address behind X-Forwarded-For, gateway user agents. No I/O,
// no clock: each takes everything it needs as arguments, so each is tested in isolation.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace apigw::dispatch {

// Longest channel name accepted (the store's column limit, not the reference system's 191).
inline constexpr std::size_t k_max_channel_name = 128;

// is_valid_channel_name: 1..128 characters of [A-Za-z0-9_-].
bool is_valid_channel_name(std::string_view name) noexcept;

// normalize_origin: "scheme://host[:port]" lower-cased, with the scheme's default port removed
// ("HTTPS://Example.COM:443" -> "https://example.com"), or nullopt when `origin` is not of that
// form (a path, user info, "null", an empty host, a bracket or colon that is not part of a
// bracketed IPv6 literal). Idempotent: a normalised origin normalises to itself.
std::optional<std::string> normalize_origin(std::string_view origin);

// origin_allowed: true when `origin` normalizes to exactly one of `allowed` (each normalized the
// same way). A substring or a suffix never matches: "https://evil-example.com" is not
// "https://example.com".
bool origin_allowed(std::string_view origin, std::span<const std::string> allowed);

// host_without_port: "example.com" from "example.com:8443", "::1" from "[::1]:80"; lower-cased.
std::string host_without_port(std::string_view host);

// host_allowed: Django's ALLOWED_HOSTS semantics: an entry "*" matches everything, ".example.com"
// matches example.com and every subdomain, anything else matches exactly (case-insensitive, port
// ignored). An empty list allows every host.
bool host_allowed(std::string_view host, std::span<const std::string> allowed);

// origin_matches_host: true when the origin's host equals `host` (both without ports,
// case-insensitive): the exact form of the reference system's "Host is not in Origin" check.
bool origin_matches_host(std::string_view origin, std::string_view host);

// is_ip_address: a valid IPv4 or IPv6 literal.
bool is_ip_address(std::string_view s) noexcept;

// client_ip: the client address from an X-Forwarded-For chain, trusting `trusted_hops` proxies:
// every trusted proxy appends the address it saw, so the client is the entry `trusted_hops` from
// the right (1: the last entry, the one API Gateway appended). Entries a client wrote itself are
// further left and are never used unless trusted_hops says so. A chain shorter than that yields
// its first entry. nullopt when the chosen entry is not an IP address.
std::optional<std::string> client_ip(std::string_view forwarded_for, std::size_t trusted_hops = 1);

// gateway_user_agent: "AmazonAPIGateway_" + api_id, what API Gateway sends on message and
// disconnect integration requests.
std::string gateway_user_agent(std::string_view api_id);

}  // namespace apigw::dispatch
