// Fuzz target: the WebSocket frame scanner (gateway/frame_guard.hpp), which reads the raw bytes a
// client sends before Beast does. Input: one control byte (bits 0-1 pick the payload limit, bits
// 2-7 a chunk size) and then the client's byte stream. Must never crash, and must agree with a
// straightforward whole-buffer frame parser however the stream is chunked: the same messages,
// control frames, open fragments, oversize verdict and frame boundary.
#include "gateway/frame_guard.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace {

using apigw::gateway::detail::frame_scanner;

// summary: what either parser concluded about a stream.
struct summary {
  std::uint64_t messages = 0;
  std::uint64_t controls = 0;
  std::uint64_t open_fragments = 0;
  bool oversize = false;
  bool at_boundary = true;
  bool operator==(const summary&) const = default;
};

// reference: parses the whole stream frame by frame (RFC 6455 §5.2 header layout).
summary reference(const std::uint8_t* p, std::size_t n, std::uint64_t max) {
  summary s;
  std::size_t pos = 0;
  while (pos < n) {
    s.at_boundary = false;
    if (n - pos < 2) return s;
    const std::uint8_t first = p[pos];
    const unsigned len7 = p[pos + 1] & 0x7fU;
    const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    const std::size_t header = 2 + ext + ((p[pos + 1] & 0x80U) != 0 ? 4 : 0);
    if (n - pos < header) return s;
    std::uint64_t len = len7;
    if (ext != 0) {
      len = 0;
      for (std::size_t i = 0; i < ext; ++i) len = (len << 8) | p[pos + 2 + i];
    }
    if (len > max) s.oversize = true;
    if (len > n - pos - header) return s;
    pos += header + static_cast<std::size_t>(len);
    if ((first & 0x08U) != 0) {
      ++s.controls;
    } else if ((first & 0x80U) != 0) {
      ++s.messages;
      s.open_fragments = 0;
    } else {
      ++s.open_fragments;
    }
    s.at_boundary = true;
  }
  return s;
}

summary scan(const std::uint8_t* p, std::size_t n, std::uint64_t max, std::size_t chunk) {
  frame_scanner sc(max);
  for (std::size_t off = 0; off < n; off += chunk) sc.feed(p + off, std::min(chunk, n - off));
  return {sc.messages(), sc.controls(), sc.open_fragments(), sc.oversize(), sc.at_boundary()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr std::array<std::uint64_t, 4> k_limits = {0, 125, 32768, std::numeric_limits<std::uint64_t>::max()};
  const std::uint64_t max = k_limits[data[0] & 3U];
  const std::size_t chunk = 1 + (data[0] >> 2);
  const std::uint8_t* stream = data + 1;
  const std::size_t n = size - 1;
  const summary expected = reference(stream, n, max);
  if (scan(stream, n, max, n == 0 ? 1 : n) != expected) std::abort();  // all at once
  if (scan(stream, n, max, chunk) != expected) std::abort();
  if (scan(stream, n, max, 1) != expected) std::abort();  // byte by byte
  return 0;
}
