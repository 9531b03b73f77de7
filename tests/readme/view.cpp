// tests/readme/view.cpp: the README's complete small view, compiled with the build so the README
// cannot drift from the API. The text between the "README:" markers is what the README shows.
// chat_backend.cpp runs run_chat_backend() as a program (integration_readme_credentials).
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/message/builders.hpp"
#include "apigw/mgmt/credentials_provider.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/server/server.hpp"
#include "apigw/store/session_store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace readme {

// README: view
// A chat backend: clients connect with ?channel=<room>&ws_token=<token>, then send
// {"handler": "say", "text": "hi"} to everyone in their rooms, or join/leave rooms.
class chat_view : public apigw::view {
 public:
  chat_view() {
    handle("say", &chat_view::say);
    enable_channel_handlers();  // join_channel, leave_channel, change_channel
    authorize_channels([](const apigw::dispatch::identity& who, std::string_view room) {
      return room != "staff" || who.has_permission("chat.staff");  // a private room
    });
  }

  // Runs on the backend's worker pool; sending returns at once (the sender delivers concurrently).
  apigw::response say(apigw::request_context& ctx) {
    const auto text = apigw::get_string(ctx.body(), "text").value_or("");
    const auto name = ctx.user().authenticated() ? ctx.user().username : std::string{"guest"};
    auto rooms = ctx.channels();
    if (!rooms) return apigw::response::text(503, "Service Unavailable");
    for (const auto& room : *rooms) {
      auto msg = apigw::chat_message(room, name, text);
      if (!msg) return apigw::response::text(400, "Invalid message");  // e.g. empty text
      ctx.sessions().in_channel(room).send_message(*msg);
    }
    return apigw::response::ok();
  }
};

int run_chat_backend() {
  auto& clock = apigw::system_clock_source::instance();
  auto db = apigw::store::open_store("chat.sqlite3", clock);  // or "postgresql://..."
  if (!db || !(*db)->migrate()) return 1;

  // @connections, pooled and concurrent, signed with the AWS credentials chain (keys, profiles, roles, web
  // identity, ECS and EC2 credentials, refreshed before they expire); loopback goes unsigned without keys.
  auto aws = std::make_shared<apigw::mgmt::credentials_provider>(apigw::mgmt::default_credentials_provider_options());
  apigw::mgmt::sender sender({.signing = apigw::mgmt::provider_signing(aws)});
  apigw::dispatch::sender_delivery delivery(sender, **db);  // sessions().send_message() goes here
  const char* secret = std::getenv("APIGW_SECRET");         // signs the login cookies
  if (secret == nullptr) return 1;
  apigw::dispatch::builtin_authenticator auth(**db, clock, secret);
  apigw::dispatch::backend_options options;
  options.security.allowed_origins = {"https://chat.example.com"};
  options.security.shared_secret = "value injected by the integration's request parameters";
  apigw::backend app(**db, delivery, auth, clock, options);

  chat_view chat;
  const char* port = std::getenv("PORT");  // set by the platform (ECS, App Runner, ...), else 8000
  const char* host = std::getenv("HOST");  // every interface (behind a load balancer), unless set
  const auto port_number = static_cast<std::uint16_t>(port != nullptr ? std::atoi(port) : 8000);
  apigw::server::backend_server http(
      app, {.address = host != nullptr ? host : "0.0.0.0", .port = port_number, .static_root = "web"}, &auth);
  http.mount("/ws/", chat);  // integrations call https://backend.example.com/ws/{connect,disconnect,default}
  if (auto started = http.start(); !started) {
    std::fprintf(stderr, "%s\n", started.error().message.c_str());
    return 1;
  }
  boost::asio::io_context signals;  // serve until SIGTERM (a deployment stopping the task) or SIGINT
  boost::asio::signal_set stop(signals, SIGTERM, SIGINT);
  stop.async_wait([](const boost::system::error_code&, int) {});
  signals.run();
  http.shutdown();  // in-flight requests finish; new ones get 503
  return 0;
}
// README: end

}  // namespace readme
