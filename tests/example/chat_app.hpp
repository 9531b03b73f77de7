// tests/example/chat_app.hpp: a small application built on apigw, used by the example test suite
// (chat_app_test.cpp) to show how an application tests its own message patterns.
//
// Clients join rooms (?channel= on connect, or the built-in join_channel handler) and:
//   say       {"handler":"say","room":"general","text":"hi"}     -> everyone in the room
//   whisper   {"handler":"whisper","to":"bob","text":"psst"}     -> every connection of one user
//   announce  {"handler":"announce","text":"maintenance at 6"}   -> everyone (needs "announce")
#pragma once

#include "apigw/dispatch/backend.hpp"
#include "apigw/message/builders.hpp"

#include <algorithm>
#include <string>

namespace example {

class chat_app_view : public apigw::view {
 public:
  chat_app_view() {
    enable_channel_handlers();
    handle("say", &chat_app_view::say);
    handle("whisper", &chat_app_view::whisper);
    handle("announce", &chat_app_view::announce, {.any_of = {"announce"}});
    on_connect([](apigw::request_context& ctx) {
      (void)ctx.reply(apigw::system("info", "Welcome!").value());
      return apigw::response::ok();
    });
  }

  // say: a chat message to a room the sender is in.
  apigw::response say(apigw::request_context& ctx) {
    const auto room = apigw::get_string(ctx.body(), "room").value_or("");
    auto mine = ctx.channels();
    if (!mine) return apigw::response::text(503, "Service Unavailable");
    if (std::ranges::find(*mine, room) == mine->end()) return apigw::response::text(403, "Not in this room");
    auto msg = apigw::chat_message(room, name_of(ctx), apigw::get_string(ctx.body(), "text").value_or(""));
    if (!msg) return apigw::response::text(400, "Invalid message");
    return deliver(ctx, ctx.sessions().in_channel(room), *msg);
  }

  // whisper: a direct message to every connection of one user.
  apigw::response whisper(apigw::request_context& ctx) {
    auto to = ctx.app().store().find_user_id(apigw::get_string(ctx.body(), "to").value_or(""));
    if (!to) return apigw::response::text(404, "No such user");
    auto msg = apigw::chat_message("direct", name_of(ctx), apigw::get_string(ctx.body(), "text").value_or(""));
    if (!msg) return apigw::response::text(400, "Invalid message");
    return deliver(ctx, ctx.sessions().for_user(*to), *msg);
  }

  // announce: a system message to everyone connected.
  apigw::response announce(apigw::request_context& ctx) {
    auto msg = apigw::system("warning", apigw::get_string(ctx.body(), "text").value_or(""));
    if (!msg) return apigw::response::text(400, "Invalid message");
    return deliver(ctx, ctx.sessions(), *msg);
  }

 private:
  static std::string name_of(const apigw::request_context& ctx) {
    return ctx.user().authenticated() ? ctx.user().username : "anonymous";
  }

  // deliver: sends and waits for the report only to tell the sender about a message that was too
  // large (nothing was sent); everything else is fire and forget.
  static apigw::response deliver(apigw::request_context& ctx, const apigw::dispatch::session_set& to,
                                 const apigw::json::object& msg) {
    auto sent = to.send_message(msg).wait();
    if (!sent && sent.error() == apigw::condition::payload_too_large) {
      (void)ctx.reply(apigw::system("error", "Message too large").value());
      return apigw::response::text(413, "Message too large");
    }
    return apigw::response::ok();
  }
};

}  // namespace example
