// tests/readme/patterns.cpp: the message-pattern snippets of README.md, compiled with the build so
// the README cannot drift from the API. The text between the "README:" markers is what it shows.
#include "apigw/dispatch/backend.hpp"
#include "apigw/message/builders.hpp"
#include "apigw/server/console.hpp"

#include <chrono>
#include <cstdio>

namespace readme {

// README: reply
// Inside a handler: answer only the connection that sent the message.
apigw::response refresh_order(apigw::request_context& ctx) {
  auto msg = apigw::resource_updated("order", "42", "/api/orders/42");  // the client refetches the row
  if (!msg) return apigw::response::text(400, "Bad request");
  ctx.reply(*msg);  // returns at once: the sender delivers, the worker is free
  return apigw::response::ok();
}
// README: end

// README: patterns
void patterns(apigw::backend& app, apigw::store::user_id alice) {
  // A toast on every open tab of one user.
  if (auto toast = apigw::toast("success", "Saved", "Your changes have been saved.", /*timeout_ms=*/5000)) {
    app.sessions().for_user(alice).send_message(*toast);
  }

  // Task progress to everyone watching the task's channel, waiting for the delivery report.
  if (auto progress = apigw::task_progress("report-42", 60, "Hashing chunk 6 of 10")) {
    auto report = app.sessions().in_channel("task-report-42").send_message(*progress).wait();
    if (report) {
      std::printf("delivered %zu, gone %zu, failed %zu, retries %zu\n", report->delivered, report->gone.size(),
                  report->failed.size(), report->retries);
    }
  }

  // A maintenance banner for every connected session.
  if (auto banner = apigw::system("warning", "Maintenance at 22:00 UTC")) {
    app.sessions().send_message(*banner);
  }

  // Invalid arguments are errors, never clamped: nothing is sent.
  auto bad = apigw::task_progress("report-42", 101, "too far");
  if (!bad) std::printf("%s\n", bad.error().message.c_str());  // "percent must be 0..100, got 101"
}
// README: end

// README: console
void console(apigw::backend& app, apigw::dispatch::builtin_authenticator& auth, apigw::server::backend_server& http) {
  // Keep it as long as the server: its routes call it.
  apigw::server::console ops(app, {.authorize = apigw::server::require_permission(auth, "admin"),
                                   .channels = [] { return std::vector<std::string>{"general"}; }});
  ops.mount(http);  // GET /api/console/sessions, /sessions/<id>, /stats; POST /preview, /send, /kick
  if (!http.start()) return;
  http.shutdown();
}
// README: end

// README: history
// Channels whose messages a reconnecting browser recovers: configure, then publish.
void with_history(apigw::dispatch::backend_options& options) {
  options.history.rules = {{"task-*", {.max_messages = 200, .max_age = std::chrono::hours{1}}}};
}

void publish_progress(apigw::backend& app) {
  if (auto progress = apigw::task_progress("report-42", 70, "Hashing chunk 7 of 10")) {
    // Stored in the channel's history with the next offset, then sent with the envelope
    // {"apigw": {"channel", "epoch", "offset"}} that web/apigw-ws.js removes and acts on.
    auto h = app.sessions().in_channel("task-report-42").publish(*progress);
    if (auto report = h.wait()) {
      std::printf("offset %lld, delivered %zu\n", static_cast<long long>(h.offset()), report->delivered);
    }
  }
}
// README: end

}  // namespace readme
