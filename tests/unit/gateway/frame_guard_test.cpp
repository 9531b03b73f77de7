// Unit tests of the frame-header scanner behind the 32 KiB frame limit.
#include "gateway/frame_guard.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace apigw::gateway::detail {
namespace {

// frame: a masked client frame header for `len` payload bytes, then the payload.
std::vector<unsigned char> frame(std::uint64_t len, unsigned char opcode = 0x1) {
  std::vector<unsigned char> out{static_cast<unsigned char>(0x80 | opcode)};
  if (len < 126) {
    out.push_back(static_cast<unsigned char>(0x80 | len));
  } else if (len <= 0xffff) {
    out.push_back(0x80 | 126);
    out.push_back(static_cast<unsigned char>(len >> 8));
    out.push_back(static_cast<unsigned char>(len & 0xff));
  } else {
    out.push_back(0x80 | 127);
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<unsigned char>(len >> (8 * i)));
  }
  for (int i = 0; i < 4; ++i) out.push_back(0x11);
  out.insert(out.end(), len, 'a');
  return out;
}

TEST(FrameScanner, FramesAtTheLimitPass) {
  frame_scanner s(32768);
  for (std::uint64_t len : {0ull, 125ull, 126ull, 65535ull / 2, 32768ull}) {
    auto f = frame(len);
    s.feed(f.data(), f.size());
  }
  EXPECT_FALSE(s.oversize());
}

TEST(FrameScanner, OversizeFrameDetectedByteByByte) {
  frame_scanner s(32768);
  auto small = frame(100);
  auto big = frame(32769);
  small.insert(small.end(), big.begin(), big.begin() + 10);
  for (unsigned char b : small) s.feed(&b, 1);
  EXPECT_TRUE(s.oversize());
}

TEST(FrameScanner, SixtyFourBitLength) {
  frame_scanner s(32768);
  auto f = frame(70000);
  s.feed(f.data(), 20);
  EXPECT_TRUE(s.oversize());
}

}  // namespace
}  // namespace apigw::gateway::detail
