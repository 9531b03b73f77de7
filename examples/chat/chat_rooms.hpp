// examples/chat/chat_rooms.hpp: chat rooms on one WebSocket connection. A room is the channel
// "chat-<room>"; switching rooms moves the session between channels without reconnecting.
//
//   {"handler":"chat_join","room":"general"}   -> leaves the other rooms, joins this one, replies
//                                                 chat_joined with the last 50 messages; presence
//                                                 goes to the rooms left and joined
//   {"handler":"chat_leave"}                   -> leaves every room
//   {"handler":"chat_say","room":"general","text":"hi"}
//                                              -> chat_message to the room, or chat_error to the
//                                                 sender only (empty, too long, not in the room)
//   presence {"room","seq","users"}            -> the room's users; a higher seq is a newer snapshot
#pragma once

#include "site_context.hpp"

#include "apigw/dispatch/view.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace examples {

class chat_rooms {
 public:
  static constexpr std::size_t k_history = 50;
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
  std::mutex mu_;
  std::map<std::string, std::deque<apigw::json::object>, std::less<>> history_;
  std::mutex presence_mu_;
  std::int64_t presence_seq_ = 0;
};

}  // namespace examples
