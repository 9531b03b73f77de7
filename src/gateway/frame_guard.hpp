// Private to the gateway: enforcing API Gateway's 32 KiB frame limit, which Beast does not expose
// (it limits whole messages only). `frame_scanner` follows the frame headers in the raw bytes a
// client sends; `frame_guard_stream` is a transparent stream layer under websocket::stream that
// feeds it every byte read, so the session can close with 1009 as soon as an oversize frame
// header arrives. The scanner also counts the complete frames it has seen, so the session can
// tell when Beast has consumed every byte it read (and an idle connection can wait for the
// socket instead of keeping a Beast read pending).
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace apigw::gateway::detail {

// frame_scanner: a WebSocket frame-header tracker over a client->server byte stream (RFC 6455
// §5.2). Pure; feed it bytes in any chunking.
class frame_scanner {
 public:
  explicit frame_scanner(std::uint64_t max_payload) noexcept : max_(max_payload) {}

  // feed: scans `n` bytes. After a header announcing a payload over the limit, oversize() is true.
  void feed(const unsigned char* p, std::size_t n) noexcept {
    while (n > 0) {
      if (remaining_ > 0) {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n));
        remaining_ -= take;
        p += take;
        n -= take;
        if (remaining_ == 0) finish_frame();
        continue;
      }
      header_[have_++] = *p++;
      --n;
      if (have_ == 2)
        need_ = 2 +
                ((header_[1] & 0x7f) == 126   ? 2
                 : (header_[1] & 0x7f) == 127 ? 8
                                              : 0) +
                ((header_[1] & 0x80) != 0 ? 4 : 0);
      if (have_ >= 2 && have_ == need_) finish_header();
    }
  }

  // oversize: a frame over the limit was announced.
  bool oversize() const noexcept { return oversize_; }

  // at_boundary: every byte fed so far belongs to a complete frame.
  bool at_boundary() const noexcept { return have_ == 0 && remaining_ == 0; }
  // messages: complete final (FIN) data frames seen, i.e. messages whose last byte arrived.
  std::uint64_t messages() const noexcept { return messages_; }
  // controls: complete control frames (ping, pong, close) seen.
  std::uint64_t controls() const noexcept { return controls_; }
  // open_fragments: complete non-final data frames seen since the last final one.
  std::uint64_t open_fragments() const noexcept { return open_fragments_; }

 private:
  void finish_header() noexcept {
    const unsigned len7 = header_[1] & 0x7f;
    std::uint64_t len = len7;
    if (len7 == 126) {
      len = (std::uint64_t{header_[2]} << 8) | header_[3];
    } else if (len7 == 127) {
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | header_[i];
    }
    if (len > max_) oversize_ = true;
    remaining_ = len;
    fin_ = (header_[0] & 0x80) != 0;
    control_ = (header_[0] & 0x08) != 0;
    have_ = 0;
    need_ = 2;
    if (remaining_ == 0) finish_frame();
  }

  void finish_frame() noexcept {
    if (control_) {
      ++controls_;
    } else if (fin_) {
      ++messages_;
      open_fragments_ = 0;
    } else {
      ++open_fragments_;
    }
  }

  std::uint64_t max_;
  unsigned char header_[14] = {};
  std::size_t have_ = 0;
  std::size_t need_ = 2;
  std::uint64_t remaining_ = 0;
  std::uint64_t messages_ = 0;
  std::uint64_t controls_ = 0;
  std::uint64_t open_fragments_ = 0;
  bool fin_ = false;
  bool control_ = false;
  bool oversize_ = false;
};

// frame_guard_stream: forwards reads and writes to NextLayer, scanning what is read.
template <class NextLayer>
class frame_guard_stream {
 public:
  using executor_type = typename NextLayer::executor_type;

  template <class... Args>
  explicit frame_guard_stream(std::uint64_t max_frame, Args&&... args)
      : next_(std::forward<Args>(args)...), scanner_(max_frame) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }
  const frame_scanner& scanner() const noexcept { return scanner_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          auto ex = boost::asio::get_associated_executor(handler, next_.get_executor());
          next_.async_read_some(
              b, boost::asio::bind_executor(
                     ex, [this, b, h = std::move(handler)](boost::system::error_code ec, std::size_t n) mutable {
                       scan(b, n);
                       std::move(h)(ec, n);
                     }));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  template <class MutableBuffers>
  void scan(const MutableBuffers& b, std::size_t n) {
    for (auto it = boost::asio::buffer_sequence_begin(b); n > 0 && it != boost::asio::buffer_sequence_end(b); ++it) {
      const boost::asio::mutable_buffer mb = *it;
      const std::size_t take = std::min(n, mb.size());
      scanner_.feed(static_cast<const unsigned char*>(mb.data()), take);
      n -= take;
    }
  }

  NextLayer next_;
  frame_scanner scanner_;
};

// teardown / async_teardown: closing the WebSocket closes the layer below (found by ADL).
template <class NextLayer>
void teardown(boost::beast::role_type role, frame_guard_stream<NextLayer>& s, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class NextLayer, class Handler>
void async_teardown(boost::beast::role_type role, frame_guard_stream<NextLayer>& s, Handler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}

}  // namespace apigw::gateway::detail
