// tests/support/recording_server.hpp: an HTTP server on 127.0.0.1 (port 0), run by its own
// thread, that records every request and answers each with a function of the request and its
// index. Tests of the control-plane client script AWS's answers with it; tests of provisioning
// put the local gateway's control-plane model behind it.
#pragma once

#include "apigw/net/http_message.hpp"
#include "apigw/net/http_server.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace apigw::testing {

// seen_request: one request as the server received it.
struct seen_request {
  std::string method;
  std::string path;   // the target without the query
  std::string query;  // after '?', still percent-encoded ("" when none)
  std::string body;
  std::chrono::steady_clock::time_point at;  // when it arrived
};

// recording_server: see the file comment. Starts listening in the constructor (throws
// std::runtime_error when it cannot); stops and joins its thread in the destructor.
class recording_server {
 public:
  // answer_fn: the response to the request numbered `index` (0 for the first). Called on the
  // server's thread, one request at a time, after the request is recorded.
  using answer_fn = std::function<net::http_response(const seen_request&, std::size_t index)>;

  explicit recording_server(answer_fn answer);
  ~recording_server();
  recording_server(const recording_server&) = delete;
  recording_server& operator=(const recording_server&) = delete;

  // url: "http://127.0.0.1:PORT".
  std::string url() const;

  // requests: every request received so far, in order.
  std::vector<seen_request> requests() const;

  // forget: drops the record (the index of the next request starts again from 0).
  void forget();

 private:
  boost::asio::awaitable<std::optional<net::http_response>> handle(net::incoming_request req);

  answer_fn answer_;
  mutable std::mutex mu_;
  std::vector<seen_request> seen_;
  boost::asio::io_context io_;
  std::unique_ptr<net::http_server> server_;
  std::thread thread_;
};

}  // namespace apigw::testing
