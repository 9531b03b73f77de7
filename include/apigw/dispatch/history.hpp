// apigw/dispatch/history.hpp: channel history on the backend: which channels keep it
// (`history_options`, per channel-name pattern), publishing with an offset (`channel_history`,
// reached through session_set::publish), and the built-in recovery handler every backend answers
// (k_recover_handler), which replays what a reconnecting client missed.
//
//   backend_options o;
//   o.history.rules = {{"chat-*", {.max_messages = 50}}, {"task-*", {.max_messages = 200, .max_age = 1h}}};
//   ...
//   auto h = ctx.sessions().in_channel("chat-lobby").publish(msg);   // h.offset(): 1, 2, 3...
//
// A published message carries the envelope {"apigw": {"channel", "epoch", "offset"}} beside its own
// keys; the browser client strips it, drops duplicates and asks for recovery after each reconnect
// (docs/patterns/recovery.md, docs/design/history.md).
#pragma once

#include "apigw/core/clock.hpp"
#include "apigw/core/json.hpp"
#include "apigw/dispatch/delivery.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/store/history_repository.hpp"
#include "apigw/store/session_query.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace apigw::dispatch {

class view;
class request_context;

// history_rule: channels whose name matches `pattern` (exact, a prefix ending in '*', or "*") keep
// their published messages under `keep`.
struct history_rule {
  std::string pattern;
  store::history_retention keep;
};

// history_options: the backend's history settings. No rules (the default): no channel keeps history
// and publish() is send_message() with the envelope check.
struct history_options {
  // rules: the first rule matching a channel applies.
  std::vector<history_rule> rules;
  // max_replay: the most messages one channel's recovery replays; a longer gap is answered
  // recovered:false (the client refetches its state instead).
  std::size_t max_replay = 10'000;
  // durable: publish() records a delivery job (delivery::send_durable) after the append instead of
  // sending at once, so a publish survives the publishing process dying mid fan-out: the job
  // workers of the processes sharing the store send it, and resume it after a crash. Costs the
  // workers' pickup delay (job_worker_options::poll at most) per message; needs a delivery that
  // keeps jobs (sender_delivery) and job workers running.
  bool durable = false;
};

// k_recover_handler: the built-in handler of the recovery request
// {"handler": "apigw.recover", "channels": [{"channel": c, "epoch": e, "offset": n}, ...]}.
inline constexpr std::string_view k_recover_handler = "apigw.recover";
// k_max_recover_channels: the most channels one recovery request may name.
inline constexpr std::size_t k_max_recover_channels = 64;

// with_envelope: `object_text` (a serialized JSON object without an "apigw" key) with the envelope
// {"apigw": {"channel": channel, "epoch": epoch, "offset": offset}} added as its last member.
std::string with_envelope(std::string_view object_text, std::string_view channel, std::string_view epoch,
                          std::int64_t offset);

// check_publishable: invalid_argument unless `q` names a channel and `message` is a JSON object
// without an "apigw" key.
result<void> check_publishable(const store::session_query& q, const json::value& message);

// channel_history: see the file comment. Thread-safe (configured once, then only read).
class channel_history {
 public:
  // channel_history: `store` and `clk` must outlive it.
  channel_history(store::history_repository& store, const clock& clk, history_options options);

  // rule_for: the first rule matching `channel`, or null (the channel keeps no history).
  const history_rule* rule_for(std::string_view channel) const noexcept;
  // publish: appends `message` to the history of the set's channel (when a rule keeps it) and sends
  // it with the envelope to the connected sessions matching `q`. Fails the handle with
  // invalid_argument when `q` names no channel, when `message` is not a JSON object or already has an
  // "apigw" key, payload_too_large when it is too large with its envelope, and with the store's
  // failure when the append failed (then nothing was sent).
  publish_handle publish(delivery& out, const store::session_query& q, const json::value& message) const;
  // recover: the built-in recovery handler for view `v`: for each channel named, checks the
  // connection may read it (the view's channel policy, as joining does), joins it (the connection
  // is new after a reconnect and must receive the channel's live messages again), then replies, in order,
  // the missed messages in {"type": "apigw.replay", "channel", "messages": [...]} batches and
  // {"type": "apigw.recovered", "channel", "recovered": true|false, "epoch", "offset", "reason"?}.
  // 400 "Invalid recovery request" for a malformed body. A channel is named by a client here, so
  // it must be a name a client may join (is_valid_channel_name) or it is answered recovered:false,
  // reason "invalid_channel": publish() takes any name the store does, but only such channels can
  // be recovered.
  response recover(const view& v, request_context& ctx) const;
  const history_options& options() const noexcept { return options_; }

 private:
  // fan_out: the one step that delivers a message that is already in the history (the seam where
  // a crash-safe delivery job can take over).
  send_handle fan_out(delivery& out, const store::session_query& q, const json::value& message) const;
  // durable_fan_out: fan_out as a delivery job (history_options::durable).
  publish_handle durable_fan_out(delivery& out, const store::session_query& q, const json::value& message,
                                 std::string epoch, std::int64_t offset) const;
  void recover_channel(const view& v, request_context& ctx, std::string_view channel, std::string_view epoch,
                       std::int64_t offset) const;

  store::history_repository& store_;
  const clock& clock_;
  history_options options_;
};

}  // namespace apigw::dispatch
