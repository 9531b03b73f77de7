// Channel history on the backend: publish (append, then fan out with the envelope) and the built-in
// recovery handler (replay from the store in order, then the end marker).
#include "apigw/dispatch/history.hpp"

#include "apigw/dispatch/checks.hpp"
#include "apigw/dispatch/view.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <limits>

namespace apigw::dispatch {
namespace {

constexpr std::string_view k_envelope_key = "apigw";

failure invalid(std::string message) {
  return {core::error::invalid_argument, std::move(message)};
}

std::string json_string(std::string_view s) {
  return boost::json::serialize(json::string(s));
}

// batch_head / k_batch_tail: the replay batch around its messages; their sizes let a batch be
// filled up to the message limit without serializing it twice.
std::string batch_head(std::string_view channel) {
  return R"({"type":"apigw.replay","channel":)" + json_string(channel) + R"(,"messages":[)";
}
constexpr std::string_view k_batch_tail = "]}";

}  // namespace

std::string with_envelope(std::string_view object_text, std::string_view channel, std::string_view epoch,
                          std::int64_t offset) {
  // The object's text without its closing brace, then the envelope as its last member.
  std::string out{object_text.substr(0, object_text.size() - 1)};
  if (object_text != "{}") out += ',';
  out += fmt::format(R"("apigw":{{"channel":{},"epoch":{},"offset":{}}}}})", json_string(channel), json_string(epoch),
                     offset);
  return out;
}

result<void> check_publishable(const store::session_query& q, const json::value& message) {
  if (!q.channel()) return invalid("publish needs a channel: sessions().in_channel(name).publish(message)");
  if (!message.is_object()) return invalid("a published message is a JSON object");
  if (message.as_object().contains(k_envelope_key)) {
    return invalid("a published message may not have an \"apigw\" key: the toolkit adds it");
  }
  return ok();
}

channel_history::channel_history(store::history_repository& store, const clock& clk, history_options options)
    : store_(store), clock_(clk), options_(std::move(options)) {}

const history_rule* channel_history::rule_for(std::string_view channel) const noexcept {
  for (const auto& r : options_.rules) {
    if (store::channel_matches(r.pattern, channel)) return &r;
  }
  return nullptr;
}

send_handle channel_history::fan_out(delivery& out, const store::session_query& q, const json::value& message) const {
  return out.send(q, message);
}

publish_handle channel_history::publish(delivery& out, const store::session_query& q,
                                        const json::value& message) const {
  if (auto ok = check_publishable(q, message); !ok) return send_handle::failed(ok.error());
  const auto& channel = *q.channel();
  const auto* rule = rule_for(channel);
  if (rule == nullptr) {
    if (options_.durable) return durable_fan_out(out, q, message, {}, 0);
    return fan_out(out, q, message);  // no history: as cheap as send_message
  }

  // Stored without the envelope (its offset is known only once stored); the size rule is checked
  // with the longest envelope this channel can get, so a stored message can always be replayed.
  auto text = serialize_message(message);
  if (!text) return send_handle::failed(text.error());
  const auto longest = with_envelope(*text, channel, std::string(16, '0'), std::numeric_limits<std::int64_t>::max());
  if (auto fits = check_message_size(longest.size()); !fits) return send_handle::failed(fits.error());

  auto at = store_.append_history(channel, *text, rule->keep);
  if (!at) return send_handle::failed(at.error());
  json::object enveloped = message.as_object();
  enveloped[k_envelope_key] = json::object{{"channel", channel}, {"epoch", at->epoch}, {"offset", at->offset}};
  if (options_.durable) return durable_fan_out(out, q, enveloped, at->epoch, at->offset);
  return {fan_out(out, q, enveloped), at->epoch, at->offset};
}

publish_handle channel_history::durable_fan_out(delivery& out, const store::session_query& q,
                                                const json::value& message, std::string epoch,
                                                std::int64_t offset) const {
  // Recorded before the first request; the message is in the history already, so a job that
  // cannot be recorded leaves it for recovery to replay.
  auto job = out.send_durable(q, message);
  if (!job) return send_handle::failed(job.error());
  return {send_handle::done(delivery_report{}), std::move(epoch), offset, *job};
}

response channel_history::recover(const view& v, request_context& ctx) const {
  const auto* list = ctx.body().if_contains("channels");
  if (list == nullptr || !list->is_array() || list->as_array().size() > k_max_recover_channels) {
    return response::text(400, "Invalid recovery request");
  }
  struct wanted {
    std::string channel;
    std::string epoch;
    std::int64_t offset;
  };
  std::vector<wanted> all;
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) return response::text(400, "Invalid recovery request");
    const auto& o = item.as_object();
    const auto channel = get_string(o, "channel");
    const auto epoch = get_string(o, "epoch");
    const auto offset = get_int(o, "offset");
    if (!channel || !epoch || !offset || *offset < 0) return response::text(400, "Invalid recovery request");
    all.push_back({std::string{*channel}, std::string{*epoch}, *offset});
  }
  for (const auto& w : all) recover_channel(v, ctx, w.channel, w.epoch, w.offset);
  return response::json(200, json::object{{"recovering", all.size()}});
}

void channel_history::recover_channel(const view& v, request_context& ctx, std::string_view channel,
                                      std::string_view epoch, std::int64_t offset) const {
  // Each reply is waited for before the next is sent: the gateway writes a connection's messages in
  // the order their requests complete, so waiting is what keeps the replay in order and the end
  // marker after it.
  const auto finish = [&](bool recovered, std::string_view reason, const store::history_position& at) {
    json::object m{{"type", "apigw.recovered"},
                   {"channel", channel},
                   {"recovered", recovered},
                   {"epoch", at.epoch},
                   {"offset", at.offset}};
    if (!reason.empty()) m["reason"] = reason;
    (void)ctx.reply(m).wait();
  };
  if (!is_valid_channel_name(channel)) return finish(false, "invalid_channel", {});
  // The same check as joining: who may not be in the channel may not read its past either.
  if (!v.channel_allowed(ctx.user(), channel)) return finish(false, "forbidden", {});
  // Recovering a channel is resubscribing to it (a new connection starts in its connect channel
  // only). Joining before reading the history is what leaves no gap: a message published after
  // the join arrives live (the client holds it until the end marker and drops it if replayed too),
  // one published before it is in the history read below.
  if (auto joined = ctx.services().channel_store().join_channel(ctx.connection_id(), channel); !joined) {
    ctx.services().log("recovery: " + joined.error().message);
    return finish(false, "unavailable", {});
  }
  const auto* rule = rule_for(channel);
  if (rule == nullptr) return finish(false, "no_history", {});

  const auto not_before = rule->keep.max_age.count() > 0 ? clock_.now() - rule->keep.max_age : clock::time_point{};
  auto page = store_.read_history(channel, offset, options_.max_replay + 1, not_before);
  if (!page) {
    if (page.error() == condition::not_found) return finish(false, "epoch", {});
    ctx.services().log("recovery: " + page.error().message);
    return finish(false, "unavailable", {});
  }
  const auto& at = page->position;
  if (at.epoch != epoch || offset > at.offset) return finish(false, "epoch", at);
  const auto missed = at.offset - offset;
  if (missed > static_cast<std::int64_t>(options_.max_replay)) return finish(false, "too_many", at);
  if (static_cast<std::int64_t>(page->entries.size()) != missed) return finish(false, "retention", at);

  // The missed messages in batches of at most the message limit; one too large to share a batch
  // goes alone, as it was first sent.
  const auto head = batch_head(channel);
  std::string batch;
  const auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    auto value = parse_json(head + batch + std::string{k_batch_tail});
    batch.clear();
    return value && ctx.reply(*value).wait().has_value();
  };
  for (const auto& e : page->entries) {
    auto one = with_envelope(e.payload, channel, at.epoch, e.offset);
    if (head.size() + one.size() + k_batch_tail.size() > k_max_message_bytes) {
      auto value = parse_json(one);
      if (!flush() || !value || !ctx.reply(*value).wait()) return;
      continue;
    }
    if (head.size() + batch.size() + 1 + one.size() + k_batch_tail.size() > k_max_message_bytes && !flush()) return;
    if (!batch.empty()) batch += ',';
    batch += one;
  }
  if (!flush()) return;
  finish(true, "", at);
}

}  // namespace apigw::dispatch
