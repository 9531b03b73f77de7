// examples/chat/chat_rooms.hpp: chat rooms on one WebSocket connection. A room is the channel
// "chat-<room>"; switching rooms moves the session between channels without reconnecting.
//
//   {"handler":"chat_join","room":"general"}   -> leaves the other rooms, joins this one, replies
//                                                 chat_joined with the last 50 messages (the
//                                                 channel's history in the store) and the
//                                                 length limit (max_text); presence
//                                                 goes to the rooms left and joined
//   {"handler":"chat_leave"}                   -> leaves every room
//   {"handler":"chat_say","room":"general","text":"hi"}
//                                              -> chat_message (with id and sent_at, ISO 8601 UTC),
//                                                 published to the room's channel (history), to the
//                                                 room, or chat_error to the sender only (empty,
//                                                 longer than 500 code points, not in the room)
//   presence {"room","seq","users"}            -> the room's users; a higher seq is a newer snapshot
#pragma once

#include "site_context.hpp"

#include "apigw/dispatch/view.hpp"

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

class chat_rooms {
 public:
  // k_history: how many messages a room keeps (its channel's history rule, history_rules()).
  static constexpr std::int64_t k_history = 50;
  // k_max_text: the longest message, in Unicode code points (what a person counts as characters;
  // 300 "ж" are 600 bytes and fit).
  static constexpr std::size_t k_max_text = 500;

  chat_rooms(site_context& site, std::vector<std::string> rooms = {"general", "random", "help"});

  // install: registers the chat handlers on `v`.
  void install(apigw::view& v);
  // left: after a session ended: tells its rooms who is still there.
  void left(apigw::request_context& ctx);
  // rooms: the room names.
  const std::vector<std::string>& rooms() const noexcept { return rooms_; }
  // channel_of: the channel of a room.
  static std::string channel_of(std::string_view room) { return "chat-" + std::string(room); }
  // text_length: the length of well-formed UTF-8 `text` in code points.
  static std::size_t text_length(std::string_view text) noexcept;

 private:
  apigw::response join(apigw::request_context& ctx);
  apigw::response leave(apigw::request_context& ctx);
  apigw::response say(apigw::request_context& ctx);
  // leave_all: removes the connection from every room; returns the rooms it was in.
  std::vector<std::string> leave_all(apigw::request_context& ctx);
  // send_presence: the room's connected users, to everyone in the room.
  void send_presence(std::string_view room);
  static apigw::response refuse(apigw::request_context& ctx, std::string_view why);

  site_context& site_;
  std::vector<std::string> rooms_;
  std::mutex presence_mu_;
  std::int64_t presence_seq_ = 0;
};

}  // namespace examples
