// Test support: raw WebSocket client frames, for tests that write bytes on a bare socket (to decide
// exactly what a peer sends, including frames a well-behaved client would never send).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace apigw::testing {

// masked_frame: one client frame (FIN set unless `fin` is false; text unless `opcode` says
// otherwise) with a payload under 64 KiB, masked as RFC 6455 requires of clients.
inline std::string masked_frame(std::string_view payload, unsigned char opcode = 0x1, bool fin = true) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | opcode));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xff));
  }
  const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
  for (unsigned char k : key) out.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return out;
}

}  // namespace apigw::testing
