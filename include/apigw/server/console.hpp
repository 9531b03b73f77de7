// apigw/server/console.hpp: the operator console's JSON API, mountable on any backend_server:
// find sessions, read one, kick it, send a toast or a system message to a session, a user, a
// channel or everyone (with the recipients counted first), and live counters sampled every second
// for charts.
//
//   apigw::server::console ops(app, {.authorize = apigw::server::require_permission(auth, "admin"),
//                                    .channels = [] { return std::vector<std::string>{"general"}; }});
//   ops.mount(http);   // before http.start(); GET /api/console/sessions ...
//
// Routes under `prefix` (every answer JSON; errors {"error": "..."}):
//   GET  sessions?user=&channel=&connected=yes|no|any&min_age_s=&after=&limit=
//        -> {"sessions": [...], "next_after": id|null}   keyset pages, newest first
//        (`after`: the last id of the previous page)
//   GET  sessions/<id>   -> one session with its channels and counters
//   POST preview {"target": "session"|"user"|"channel"|"everyone", "value": ...}
//        -> {"recipients": n}                             connected sessions a send would reach
//   POST send    {target, value, "kind": "toast"|"system", "level", "title", "message"}
//        -> {"recipients": n, "delivered", "gone", "failed", "retries", "failures": [...]}
//   POST kick    {"connection_id": "..."}  -> {"kicked": true|false (it was already gone)}
//   GET  stats   -> the samples of the last `history` (see console::stats)
//   GET  audit   -> {"actions": [...]}  the last `audit_kept` writes, newest first (see console_action)
// Every write (send, kick) is also an audit line in the backend's log (msg="console action", with
// actor, action, target, value, status) and is handed to options.on_action, where an application
// keeps a durable trail of its own; the in-memory list is per process and gone on restart.
// Every route asks `authorize` first; POSTs ask it as writes (CSRF). Reads and sends block on the
// store and the sender, so they run on the server's blocking pool like every application route.
#pragma once

#include "apigw/core/json.hpp"
#include "apigw/dispatch/auth.hpp"
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/http.hpp"
#include "apigw/server/server.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace apigw::server {

// console_authorize: who may use the console. nullopt: the request may proceed; otherwise the
// refusal to answer (401 without a login, 403 without the permission or, for a write, without
// the CSRF proof).
using console_authorize = std::function<std::optional<dispatch::response>(const dispatch::request&, bool write)>;

// require_permission: a console_authorize for users of `auth` holding `permission`; writes also
// need auth.csrf_ok (the X-CSRF-Token header the other pages send). `auth` must outlive it.
console_authorize require_permission(dispatch::authenticator& auth, std::string permission);

// console_actor: the name an operator's request is recorded under in the audit log.
using console_actor = std::function<std::string(const dispatch::request&)>;

// username_of: a console_actor naming the logged-in user of `auth` ("" without one). `auth` must
// outlive it.
console_actor username_of(dispatch::authenticator& auth);

// console_action: one write an operator made, as the audit log records it.
struct console_action {
  std::int64_t at_ms = 0;  // unix ms, by the store's clock
  std::string actor;       // options.actor's answer; "" when unset
  std::string action;      // "send" or "kick"
  std::string target;      // send: session, user, channel or everyone; kick: session
  std::string value;       // the session's connection id, the user or the channel ("" for everyone)
  json::object request;    // the body as received (send: kind, level, title, message)
  unsigned status = 0;     // the HTTP status answered
  json::object outcome;    // the JSON answered (the delivery report, or {"error": ...})
};

// console_options: see the file comment.
struct console_options {
  std::string prefix = "/api/console/";
  // authorize: required; a console without it refuses everything (403).
  console_authorize authorize;
  // channels: the channels whose connected sessions the stats count each second (the store keeps
  // no list of channels; the application knows its own). Empty: none.
  std::function<std::vector<std::string>()> channels;
  std::chrono::milliseconds sample_every{1000};
  std::chrono::seconds history{300};  // samples kept: history / sample_every
  // watch: the store's counts (connected sessions, per channel) are sampled only while stats()
  // has been read within this long; otherwise samples hold the backend's own counters only and
  // those points are null. A console page polls stats every few seconds.
  std::chrono::seconds watch{30};
  bool sample_thread = true;  // false: only sample() takes samples (tests)
  // actor: who made a write, for the audit log (usually username_of(auth)).
  console_actor actor;
  // on_action: told of every write after it ran, on the request's thread; must not throw.
  std::function<void(const console_action&)> on_action;
  std::size_t audit_kept = 200;  // actions the audit route lists
};

// console: see the file comment. Thread-safe.
class console {
 public:
  // console: `app` must outlive it; starts the sampling thread (unless options.sample_thread is false).
  console(dispatch::backend& app, console_options options);
  ~console();
  console(const console&) = delete;
  console& operator=(const console&) = delete;

  // mount: the routes on `http` under options.prefix (before http.start()).
  void mount(backend_server& http);
  // handle: one request under the prefix (what mount routes there).
  dispatch::response handle(const dispatch::request& req);

  // sample: takes one sample now (the thread calls it every sample_every).
  void sample();
  // stats: {"interval_ms", "t": [unix ms...], "connected": [n|null...], "messages_per_s": [...],
  //  "connects_per_s", "delivered_per_s", "gone_per_s", "failed_per_s",
  //  "channels": {name: [connected n|null...]}, "channel_messages_per_s": {name: [...]}, "totals"}
  // oldest first, one point per sample after the first; a rate is the difference to the previous
  // sample over the time between them. null: the sample was taken while nobody watched (see
  // console_options::watch). Reading stats counts as watching.
  json::object stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace apigw::server
