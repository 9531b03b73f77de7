// examples/notifications/notifications.cpp: see notifications.hpp.
#include "notifications.hpp"

#include "apigw/message/builders.hpp"

namespace examples {
namespace {

apigw::response refuse(apigw::request_context& ctx, unsigned status, std::string_view why) {
  (void)ctx.reply(apigw::json::object{{"type", "notify_error"}, {"message", why}});
  return apigw::response::text(status, std::string(why));
}

apigw::response notify(apigw::request_context& ctx) {
  const auto& b = ctx.body();
  const auto to = apigw::get_string(b, "to").value_or("me");
  std::optional<std::string_view> action;
  if (auto a = apigw::get_string(b, "action_url"); a && !a->empty()) action = a;
  auto timeout = apigw::get_int(b, "timeout_ms");
  if (timeout && *timeout <= 0) timeout.reset();
  auto toast = apigw::toast(apigw::get_string(b, "level").value_or("info"), apigw::get_string(b, "title").value_or(""),
                            apigw::get_string(b, "message").value_or(""), timeout, action);
  if (!toast) return refuse(ctx, 400, toast.error().message);

  apigw::dispatch::session_set recipients = ctx.sessions();
  if (!ctx.user().authenticated()) return refuse(ctx, 403, "Log in first");
  if (to == "me") {
    recipients = ctx.sessions().for_user(*ctx.user().user);
  } else if (to == "user") {
    auto id = ctx.app().store().find_user_id(apigw::get_string(b, "username").value_or(""));
    if (!id) return refuse(ctx, 404, "No such user");
    recipients = ctx.sessions().for_user(*id);
  } else if (to == "everyone") {
    if (!ctx.user().has_permission(k_admin_permission)) return refuse(ctx, 403, "Only admins may notify everyone");
  } else {
    return refuse(ctx, 400, "to must be me, user or everyone");
  }
  // Waiting for the report is fine here: the sender wants to know how many tabs got it.
  auto report = recipients.send_message(*toast).wait();
  if (!report)
    return refuse(ctx, report.error() == apigw::condition::payload_too_large ? 413 : 503, report.error().message);
  (void)ctx.reply(apigw::json::object{{"type", "notify_result"}, {"delivered", report->delivered}});
  return apigw::response::ok();
}

}  // namespace

void install_notifications(apigw::view& v) {
  v.handle("notify", notify);
}

}  // namespace examples
