// Identifiers and secrets.
#include "apigw/core/ids.hpp"

#include <pthread.h>
#include <sys/random.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace apigw {

namespace {

// getrandom_fill: fills `out` straight from getrandom(2).
result<void> getrandom_fill(std::span<std::byte> out) {
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

// Every message through the gateway takes three ids (request, message, trace), and a system call
// costs more than the id: random bytes are taken from the kernel k_pool bytes at a time into a
// per-thread pool and handed out once each (the bytes handed out are wiped from the pool). A
// forked child must not hand out its parent's bytes again: a fork bumps the generation and every
// thread's pool is dropped on its next use.
constexpr std::size_t k_pool = 512;
std::atomic<std::uint64_t> fork_generation{0};

struct random_pool {
  random_pool() {
    [[maybe_unused]] static const int registered = ::pthread_atfork(nullptr, nullptr, [] { ++fork_generation; });
  }
  std::array<std::byte, k_pool> bytes{};
  std::size_t used = k_pool;
  std::uint64_t generation = 0;
};

}  // namespace

result<void> random_bytes(std::span<std::byte> out) {
  if (out.size() > k_pool / 4) return getrandom_fill(out);
  thread_local random_pool pool;
  const auto gen = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != gen) {
    pool.used = k_pool;
    pool.generation = gen;
  }
  if (k_pool - pool.used < out.size()) {
    if (auto r = getrandom_fill(pool.bytes); !r) return r;
    pool.used = 0;
  }
  std::memcpy(out.data(), pool.bytes.data() + pool.used, out.size());
  std::memset(pool.bytes.data() + pool.used, 0, out.size());
  pool.used += out.size();
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
