// apigw/dispatch/testing.hpp: testing support for applications: drive a view exactly as API
// Gateway would, and see what it sent, without sockets.
//
//   store::session_store& db = ...;             // a SQLite file in a temp dir
//   dispatch::recording_delivery out(db);       // an in-memory @connections
//   dispatch::fake_gateway gw(app, my_view, {.api_id = "abc123"});
//   gw.connect("c1", {.query = "channel=general"});
//   gw.message("c1", {{"handler", "chat_message"}, {"text", "hi"}});
//   EXPECT_EQ(out.messages_for("c2").size(), 1);
//
// `fake_gateway` builds the integration requests of AWS's HTTP_PROXY integration (semantics §3):
// the headers AWS sends (Host, X-Forwarded-*, X-Amzn-*, connectionId, the gateway's User-Agent on
// message and disconnect routes, the browser's headers on $connect), and runs them through the
// backend's full pipeline. `recording_delivery` is a `delivery` that records every message per
// connection, enforces the 128 KiB rule, and can play gone or failing connections.
#pragma once

#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/dispatch/view.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::dispatch {

// recording_delivery: see the file comment. Thread-safe. Sends complete before send() returns.
class recording_delivery : public delivery {
 public:
  // recording_delivery: gone connections are marked by the production rule: only sessions created
  // at least `connect_window` before the send (see k_connect_window), so a test that plays a
  // stale connection advances its clock past the window first, as real time would have.
  explicit recording_delivery(store::session_repository& store,
                              std::chrono::milliseconds connect_window = k_connect_window)
      : store_(store), connect_window_(connect_window) {}

  // send: records `message` for every connected session of `q`; gone connections are reported and
  // marked disconnected in the store (store_gone_sink's rule), failing ones reported as failed.
  // payload_too_large (nothing recorded) over 131072 bytes; the store's failure when reading
  // recipients fails.
  send_handle send(const store::session_query& q, const json::value& message) override;
  // send_to: records `message` for `connection_id` (gone and failing rules as for send).
  send_handle send_to(const std::string& connection_id, const std::string& endpoint,
                      const json::value& message) override;

  // observe: every send is counted in `m`, as sender_delivery counts them.
  void observe(std::shared_ptr<backend_metrics> m) override;

  // disconnect: records the kick and marks the session disconnected (false, marked by the gone
  // rule, for a connection set gone_on_send).
  result<bool> disconnect(const store::session& s) override;
  // disconnected: whether disconnect() closed `connection_id`.
  bool disconnected(const std::string& connection_id) const;

  // gone_on_send: from now on, `connection_id` answers 410 Gone (a stale connection).
  void gone_on_send(const std::string& connection_id);
  // fail_on_send: from now on, sends to `connection_id` fail with `reason`.
  void fail_on_send(const std::string& connection_id, failure reason);

  // messages_for: what `connection_id` received, as serialized JSON, in order.
  std::vector<std::string> messages_for(const std::string& connection_id) const;
  // json_for: the same, parsed.
  std::vector<json::value> json_for(const std::string& connection_id) const;
  // total: messages delivered to every connection.
  std::size_t total() const;
  // sends: how many send() calls were made (one broadcast is one send).
  std::size_t sends() const;
  // clear: forgets what was recorded (not the gone or failing connections).
  void clear();

 private:
  store::session_repository& store_;
  std::chrono::milliseconds connect_window_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> received_;
  std::set<std::string> gone_;
  std::set<std::string> kicked_;
  std::map<std::string, failure> failing_;
  std::size_t sends_ = 0;
  std::shared_ptr<backend_metrics> metrics_;  // guarded by mutex_

  // counted: one finished send in the observed metrics (`report` null: it failed as a whole;
  // `channel`: the channel it went to, if any).
  void counted(const delivery_report* report, std::string_view channel = {});

  // deliver_one: records or reports one recipient; returns true when it is gone. Caller locks.
  bool deliver_one(const std::string& connection_id, const std::string& text, delivery_report& report);
};

// fake_gateway_options: the gateway's identity and what the browser sends.
struct fake_gateway_options {
  std::string api_id = "abc123defg";
  std::string host = "backend.example.com";            // the integration URI's host
  std::string origin = "https://backend.example.com";  // the page's origin on $connect
  std::string client_ip = "203.0.113.10";
  std::string shared_secret_header = "X-Apigw-Secret";
  std::string shared_secret;  // sent when non-empty
  std::string browser_user_agent = "Mozilla/5.0 (X11; Linux x86_64)";
};

// connect_options: per-connect extras.
struct connect_options {
  std::string query;                         // the client's query string, e.g. "channel=general&ws_token=..."
  std::string cookie;                        // the Cookie header (empty: "" is still sent, as browsers send the header)
  std::optional<std::string> origin;         // overrides the gateway's origin
  std::optional<std::string> forwarded_for;  // overrides the X-Forwarded-For chain
};

// fake_gateway: see the file comment. `app` and `v` must outlive it.
class fake_gateway {
 public:
  fake_gateway(backend& app, view& v, fake_gateway_options options = {})
      : app_(app), view_(v), options_(std::move(options)) {}

  // connect_request / message_request / disconnect_request: the integration requests AWS sends.
  request connect_request(const std::string& connection_id, const connect_options& extra = {}) const;
  request message_request(const std::string& connection_id, std::string body) const;
  request disconnect_request(const std::string& connection_id) const;

  // connect / message / disconnect: build the request and run it through the backend.
  response connect(const std::string& connection_id, const connect_options& extra = {});
  response message(const std::string& connection_id, const json::value& body, const std::string& route = "default");
  response message_text(const std::string& connection_id, std::string body, const std::string& route = "default");
  response disconnect(const std::string& connection_id);

  const fake_gateway_options& options() const noexcept { return options_; }

 private:
  std::vector<header> common_headers(const std::string& connection_id, std::size_t content_length,
                                     bool gateway_ua) const;
  backend& app_;
  view& view_;
  fake_gateway_options options_;
};

}  // namespace apigw::dispatch
