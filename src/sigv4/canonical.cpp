// Canonicalisation rules of AWS Signature Version 4: URI encoding, path normalisation, header
// trimming, and the assembly of the canonical request and string to sign.
#include "sigv4/canonical.hpp"

#include "apigw/core/text.hpp"

#include <algorithm>
#include <array>

namespace apigw::sigv4::detail {
namespace {

constexpr char k_hex_upper[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool is_escape_at(std::string_view s, std::size_t i) noexcept {
  return i + 2 < s.size() && s[i] == '%' && hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Header names SDKs never sign, because intermediaries may add, drop or rewrite them.
constexpr std::array<std::string_view, 15> k_unsigned_headers = {
    "authorization", "cache-control",     "connection", "expect",     "from",
    "keep-alive",    "max-forwards",      "pragma",     "referer",    "te",
    "trailer",       "transfer-encoding", "upgrade",    "user-agent", "x-amzn-trace-id"};

}  // namespace

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string collapse_whitespace(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string remove_dot_segments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> kept;
  for (const std::string_view segment : split(path, '/')) {
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
  }
  std::string out;
  out.reserve(path.size());
  if (path.front() == '/') out.push_back('/');
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i != 0) out.push_back('/');
    out.append(kept[i]);
  }
  if (path.back() == '/' && !kept.empty()) out.push_back('/');
  return out;
}

std::string uri_encode(std::string_view s, bool keep_slash, bool keep_escapes) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else if (keep_escapes && is_escape_at(s, i)) {
      out.append(s.substr(i, 3));
      i += 2;
    } else {
      out.push_back('%');
      out.push_back(k_hex_upper[c >> 4]);
      out.push_back(k_hex_upper[c & 15U]);
    }
  }
  return out;
}

// The project's one decoder, in its lenient form: a stray '%' in what a client signed is kept.
std::string percent_decode(std::string_view s) {
  return apigw::percent_decode_lenient(s);
}

bool canonical_headers(std::span<const header> headers, std::span<const std::string> names, std::string& out,
                       std::string& missing) {
  for (const auto& name : names) {
    out.append(name);
    out.push_back(':');
    bool found = false;
    for_each_header(headers, name, [&](const std::string& value) {
      if (found) out.push_back(',');
      out.append(collapse_whitespace(value));
      found = true;
    });
    if (!found) {
      missing = name;
      return false;
    }
    out.push_back('\n');
  }
  return true;
}

std::string join_signed_headers(std::span<const std::string> names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out.push_back(';');
    out.append(n);
  }
  return out;
}

std::vector<std::string> default_signed_headers(std::span<const header> headers) {
  std::vector<std::string> names;
  names.reserve(headers.size());
  for (const auto& h : headers) {
    std::string name = to_lower(h.name);
    if (std::find(k_unsigned_headers.begin(), k_unsigned_headers.end(), name) != k_unsigned_headers.end()) continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string assemble_canonical_request(std::string_view method, std::string_view uri, std::string_view query,
                                       std::string_view headers_block, std::string_view signed_headers,
                                       std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + uri.size() + query.size() + headers_block.size() + signed_headers.size() +
              payload_hash.size() + 6);
  out.append(method).append("\n");
  out.append(uri).append("\n");
  out.append(query).append("\n");
  out.append(headers_block).append("\n");
  out.append(signed_headers).append("\n");
  out.append(payload_hash);
  return out;
}

std::string assemble_string_to_sign(std::string_view amz_date, std::string_view scope,
                                    std::string_view canonical_request_hash) {
  std::string out(k_algorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n").append(canonical_request_hash);
  return out;
}

std::string credential_scope(std::string_view date, std::string_view region, std::string_view service) {
  std::string out(date);
  out.append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

}  // namespace apigw::sigv4::detail
