// Unit tests of the frame-header scanner behind the 32 KiB frame limit.
#include "gateway/frame_guard.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace apigw::gateway::detail {
namespace {

// frame: a masked client frame header for `len` payload bytes, then the payload.
std::vector<unsigned char> frame(std::uint64_t len, unsigned char opcode = 0x1, bool fin = true) {
  std::vector<unsigned char> out{static_cast<unsigned char>((fin ? 0x80 : 0x00) | opcode)};
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

// The frame accounting that tells the session when Beast holds no unread bytes.
TEST(FrameScanner, CountsMessagesControlsAndFragments) {
  frame_scanner s(32768);
  EXPECT_TRUE(s.at_boundary());
  auto first = frame(5, 0x1, false);  // a text message begins
  auto ping = frame(3, 0x9);          // a ping between its fragments
  auto last = frame(4, 0x0, true);    // its final fragment
  auto empty = frame(0, 0x1);         // an empty message
  s.feed(first.data(), first.size());
  EXPECT_EQ(s.open_fragments(), 1u);
  EXPECT_EQ(s.messages(), 0u);
  s.feed(ping.data(), ping.size());
  EXPECT_EQ(s.controls(), 1u);
  // Byte by byte: nothing counts until the frame's last byte, and the boundary is only at the end.
  for (std::size_t i = 0; i + 1 < last.size(); ++i) {
    s.feed(&last[i], 1);
    EXPECT_FALSE(s.at_boundary());
    EXPECT_EQ(s.messages(), 0u);
  }
  s.feed(&last.back(), 1);
  EXPECT_TRUE(s.at_boundary());
  EXPECT_EQ(s.messages(), 1u);
  EXPECT_EQ(s.open_fragments(), 0u);
  s.feed(empty.data(), empty.size());
  EXPECT_EQ(s.messages(), 2u);
  EXPECT_TRUE(s.at_boundary());
  EXPECT_EQ(s.controls(), 1u);
}

}  // namespace
}  // namespace apigw::gateway::detail
