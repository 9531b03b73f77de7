// examples/chat/chat_rooms.cpp: see chat_rooms.hpp.
#include "chat_rooms.hpp"

#include "apigw/core/clock.hpp"
#include "apigw/core/ids.hpp"
#include "apigw/message/builders.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

namespace examples {

std::size_t chat_rooms::text_length(std::string_view text) noexcept {
  // Every code point has exactly one byte that is not a continuation byte (10xxxxxx). The body
  // was parsed as JSON, so the text is well-formed UTF-8.
  return static_cast<std::size_t>(
      std::ranges::count_if(text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

chat_rooms::chat_rooms(site_context& site, std::vector<std::string> rooms) : site_(site), rooms_(std::move(rooms)) {}

void chat_rooms::install(apigw::view& v) {
  v.handle("chat_join", [this](apigw::request_context& ctx) { return join(ctx); });
  v.handle("chat_leave", [this](apigw::request_context& ctx) { return leave(ctx); });
  v.handle("chat_say", [this](apigw::request_context& ctx) { return say(ctx); });
}

apigw::response chat_rooms::refuse(apigw::request_context& ctx, std::string_view why) {
  (void)ctx.reply(apigw::json::object{{"type", "chat_error"}, {"message", why}});
  return apigw::response::text(400, std::string(why));
}

std::vector<std::string> chat_rooms::leave_all(apigw::request_context& ctx) {
  std::vector<std::string> left;
  auto mine = ctx.channels();
  if (!mine) return left;
  for (const auto& room : rooms_) {
    if (std::ranges::find(*mine, channel_of(room)) == mine->end()) continue;
    (void)ctx.app().store().leave_channel(ctx.connection_id(), channel_of(room));
    left.push_back(room);
  }
  return left;
}

apigw::response chat_rooms::join(apigw::request_context& ctx) {
  const std::string room{apigw::get_string(ctx.body(), "room").value_or("")};
  if (std::ranges::find(rooms_, room) == rooms_.end()) return refuse(ctx, "No such room");
  const auto left = leave_all(ctx);
  if (auto joined = ctx.app().store().join_channel(ctx.connection_id(), channel_of(room)); !joined) {
    return refuse(ctx, "Could not join the room, try again");
  }
  // The room's last messages come from the channel's history in the store, so every backend
  // process shows the same ones and they survive a restart.
  apigw::json::array history;
  auto& store = ctx.app().store();
  if (auto at = store.history_position_of(channel_of(room)); at) {
    auto page = store.read_history(channel_of(room), std::max<std::int64_t>(0, at->offset - k_history),
                                   static_cast<std::size_t>(k_history), apigw::clock::time_point{});
    if (page) {
      for (const auto& e : page->entries) {
        if (auto m = apigw::parse_json(e.payload)) history.push_back(std::move(*m));
      }
    }
  }
  (void)ctx.reply(apigw::json::object{
      {"type", "chat_joined"}, {"room", room}, {"max_text", k_max_text}, {"history", std::move(history)}});
  for (const auto& r : left) {
    if (r != room) send_presence(r);
  }
  send_presence(room);
  return apigw::response::ok();
}

apigw::response chat_rooms::leave(apigw::request_context& ctx) {
  for (const auto& r : leave_all(ctx)) send_presence(r);
  (void)ctx.reply(apigw::json::object{{"type", "chat_left"}});
  return apigw::response::ok();
}

apigw::response chat_rooms::say(apigw::request_context& ctx) {
  const std::string room{apigw::get_string(ctx.body(), "room").value_or("")};
  const std::string text{apigw::get_string(ctx.body(), "text").value_or("")};
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return refuse(ctx, "Message is empty");
  if (text_length(text) > k_max_text) {
    return refuse(ctx, fmt::format("Message is longer than {} characters", k_max_text));
  }
  auto mine = ctx.channels();
  if (!mine || std::ranges::find(*mine, channel_of(room)) == mine->end()) return refuse(ctx, "Join the room first");
  auto msg = apigw::chat_message(room, ctx.user().username, text);
  if (!msg) return refuse(ctx, "Invalid message");
  // When it was said, so pages (and the history a later join gets) can show the time; an id, so a
  // page that gets a message both in a join's history and recovered after a reconnect shows it once.
  (*msg)["sent_at"] = apigw::format_iso8601(ctx.app().time().now());
  std::array<std::byte, 8> raw{};
  if (!apigw::random_bytes(raw)) return apigw::response::text(503, "Service Unavailable");
  (*msg)["id"] = apigw::to_hex(raw);
  (void)ctx.sessions().in_channel(channel_of(room)).publish(*msg);
  return apigw::response::ok();
}

void chat_rooms::left(apigw::request_context& ctx) {
  auto mine = ctx.channels();
  if (!mine) return;
  for (const auto& room : rooms_) {
    if (std::ranges::find(*mine, channel_of(room)) != mine->end()) send_presence(room);
  }
}

void chat_rooms::send_presence(std::string_view room) {
  // Presence messages from concurrent joins may arrive in any order, so each carries a sequence
  // number taken together with its snapshot; pages keep the highest.
  apigw::json::array users;
  std::int64_t seq = 0;
  {
    std::lock_guard lock(presence_mu_);
    auto p = site_.app.presence(channel_of(room));
    if (!p) return;
    for (const auto id : p->users) {
      if (auto u = site_.app.store().get_user(id)) users.emplace_back(u->username);
    }
    seq = ++presence_seq_;
  }
  (void)site_.app.sessions()
      .in_channel(channel_of(room))
      .send_message(
          apigw::json::object{{"type", "presence"}, {"room", room}, {"seq", seq}, {"users", std::move(users)}});
}

}  // namespace examples
