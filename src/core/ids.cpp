// Identifiers and secrets.
#include "apigw/core/ids.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>

namespace apigw {

result<void> random_bytes(std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure{core::error::random_unavailable, "getrandom failed"};
    }
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

result<std::string> new_connection_id() {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<std::byte, k_connection_id_length - 1> raw{};
  if (auto r = random_bytes(raw); !r) return r.error();
  std::string id;
  id.reserve(k_connection_id_length);
  for (std::byte b : raw) id.push_back(alphabet[static_cast<unsigned>(b) & 63U]);
  id.push_back('=');
  return id;
}

bool is_valid_connection_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > k_max_connection_id_length) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '=' || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    const auto v = static_cast<unsigned>(b);
    out.push_back(digits[v >> 4]);
    out.push_back(digits[v & 15U]);
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  return to_hex(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
}

result<std::string> new_token_hex() {
  std::array<std::byte, 32> raw{};
  if (auto r = random_bytes(raw); !r) return r.error();
  return to_hex(raw);
}

bool is_token_hex(std::string_view s) noexcept {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  // Read through a volatile so the compiler cannot turn the loop into an early-exit compare.
  volatile unsigned char result = diff;
  return result == 0;
}

}  // namespace apigw
