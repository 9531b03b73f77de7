// examples/notifications/notifications.hpp: toasts to me, to one user (every tab they have open),
// or to everyone (admin permission only).
//
//   {"handler":"notify","to":"me"|"user"|"everyone","username":"bob","level":"success",
//    "title":"Saved","message":"...","timeout_ms":5000,"action_url":"/app/dashboard/"}
//   -> a toast to the recipients and a notify_result {"delivered": n} (or notify_error) to the sender
#pragma once

#include "apigw/dispatch/backend.hpp"

namespace examples {

// k_admin_permission: the permission that may notify everyone.
inline constexpr const char* k_admin_permission = "admin";

// install_notifications: registers the notify handler on `v`.
void install_notifications(apigw::view& v);

}  // namespace examples
