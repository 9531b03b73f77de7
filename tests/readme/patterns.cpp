// tests/readme/patterns.cpp: the C++ snippets of README.md, compiled with the build so the README
// cannot drift from the API. Each function is one snippet, between the "README:" markers.
#include "apigw/message/builders.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/store/session_store.hpp"
#include "store_delivery.hpp"

#include <cstdio>

namespace readme {

// README: toast
apigw::result<apigw::mgmt::delivery_report> toast_a_user(apigw::store::session_store& store,
                                                         apigw::mgmt::sender& sender, apigw::store::user_id alice) {
  auto msg = apigw::toast("success", "Saved", "Your changes have been saved.", /*timeout_ms=*/5000);
  if (!msg) return msg.error();  // invalid level, empty title...: an error, never a clamp
  auto text = apigw::serialize_message(*msg);
  if (!text) return text.error();  // over 128 KiB: nothing is sent
  apigw::cli::store_recipients to_alice(store, apigw::store::session_query{}.for_user(alice), std::nullopt);
  apigw::cli::store_gone_sink gone(store);  // 410s are marked disconnected in one statement
  return sender.send_sync(to_alice, std::move(*text), &gone);
}
// README: end

// README: channel
void progress_to_channel(apigw::store::session_store& store, apigw::mgmt::sender& sender) {
  auto msg = apigw::task_progress("report-42", 60, "Hashing chunk 6 of 10");
  apigw::cli::store_recipients watchers(store, apigw::store::session_query{}.in_channel("task-report-42"),
                                        std::nullopt);
  apigw::cli::store_gone_sink gone(store);
  auto report = sender.send_sync(watchers, apigw::serialize_message(*msg).value(), &gone);
  if (report) {
    std::printf("delivered %zu, gone %zu, failed %zu, retries %zu\n", report->delivered, report->gone.size(),
                report->failed.size(), report->retries);
  }
}
// README: end

// README: one
boost::asio::awaitable<void> reply_to_one(apigw::mgmt::sender& sender, std::string connection_id) {
  auto msg = apigw::resource_updated("order", "42", "/api/orders/42");
  std::vector<apigw::mgmt::recipient> one{{std::move(connection_id), "http://127.0.0.1:4510/dev"}};
  auto report = co_await sender.send(std::move(one), apigw::serialize_message(*msg).value());
  if (report && !report->gone.empty()) {
    // the browser went away; the report says so instead of throwing
  }
}
// README: end

}  // namespace readme
