// tests/support/connections_server.hpp: a fake `@connections` Management API for tests and
// benchmarks, built on net::http_server. It records every request (method, path, headers, body),
// counts how many were in flight at once, and answers as AWS does (semantics §5.1/5.2): 200 to
// POST, GetConnection JSON to GET, 204 to DELETE, and for errors the status, x-amzn-ErrorType and
// body AWS sends. Replies can be scripted per connection id: a status, a delay (a timer, so the
// server's threads stay free) or a dropped connection.
#pragma once

#include "apigw/net/http_message.hpp"
#include "apigw/net/http_server.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace apigw::testing {

// reply: what the server does with one request.
struct reply {
  unsigned status = 200;               // 200 (204 for DELETE), 403, 410, 413, 429, 500, ...
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool drop = false;                   // close the connection without answering
};

// recorded_request: one request as received.
struct recorded_request {
  std::string method;
  std::string target;         // as on the request line
  std::string base_path;      // the part before "/@connections/" ("/dev")
  std::string connection_id;  // percent-decoded
  net::http_headers headers;
  std::string body;
};

// connections_server: see the file comment. Runs on its own io_context and threads; listens on
// 127.0.0.1, port 0.
class connections_server {
 public:
  explicit connections_server(std::size_t threads = 1);
  ~connections_server();
  connections_server(const connections_server&) = delete;
  connections_server& operator=(const connections_server&) = delete;

  // port: the port it listens on.
  std::uint16_t port() const;
  // endpoint: "http://127.0.0.1:{port}{base_path}".
  std::string endpoint(std::string_view base_path = "/dev") const;

  // script: the replies for `connection_id`, used in order; the last one repeats.
  void script(const std::string& connection_id, std::vector<reply> replies);
  // set_default: the reply for ids without a script (initially 200 at once).
  void set_default(reply r);
  // set_record_bodies: whether bodies are kept in the records (on by default).
  void set_record_bodies(bool on);

  // requests: a copy of every request received so far.
  std::vector<recorded_request> requests() const;
  // request_count / count_for: how many requests arrived, in total or for one id.
  std::size_t request_count() const;
  std::size_t count_for(std::string_view connection_id) const;
  // max_in_flight: the largest number of requests being answered at the same moment.
  std::size_t max_in_flight() const;
  // connections_accepted: TCP connections accepted.
  std::uint64_t connections_accepted() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
  boost::asio::io_context io_;
  std::unique_ptr<net::http_server> server_;
  std::vector<std::thread> threads_;
};

}  // namespace apigw::testing
