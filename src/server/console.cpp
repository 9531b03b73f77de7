// src/server/console.cpp: see apigw/server/console.hpp.
#include "apigw/server/console.hpp"

#include "apigw/message/builders.hpp"
#include "apigw/store/session_query.hpp"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <variant>

namespace apigw::server {
namespace {

constexpr std::size_t k_default_limit = 50;
constexpr std::size_t k_max_limit = 500;
// k_max_scanned: sessions one list request reads at most while the age filter skips rows, so a
// filter that matches nothing answers (with a cursor to go on) instead of reading the whole table.
constexpr std::size_t k_max_scanned = 5000;

dispatch::response error_json(unsigned status, std::string_view message) {
  auto r = dispatch::response::json(status, json::object{{"error", message}});
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

dispatch::response ok_json(json::object body) {
  auto r = dispatch::response::json(200, body);
  // Who is connected is not for a shared cache, nor for the browser's back button.
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// sample_point: the counters at one instant. The backend's own counters are always there; the
// store's counts (connected, per channel) only while someone watches (see console_options::watch).
struct sample_point {
  std::int64_t t_ms = 0;
  std::optional<std::int64_t> connected;
  dispatch::metrics_totals totals;
  std::map<std::string, std::int64_t> channels;
};

}  // namespace

console_authorize require_permission(dispatch::authenticator& auth, std::string permission) {
  return [&auth, permission = std::move(permission)](const dispatch::request& req,
                                                     bool write) -> std::optional<dispatch::response> {
    auto who = auth.from_request(req);
    if (!who || !who->authenticated()) return error_json(401, "Log in first");
    if (!who->has_permission(permission)) return error_json(403, "The console needs the " + permission + " permission");
    if (write && !auth.csrf_ok(req, *who)) return error_json(403, "CSRF check failed");
    return std::nullopt;
  };
}

console_actor username_of(dispatch::authenticator& auth) {
  return [&auth](const dispatch::request& req) {
    auto who = auth.from_request(req);
    return who && who->authenticated() ? who->username : std::string{};
  };
}

struct console::impl {
  impl(dispatch::backend& a, console_options o) : app(a), options(std::move(o)) {}

  dispatch::backend& app;
  console_options options;

  mutable std::mutex mu;  // samples, stopping, last_read, audit
  std::deque<sample_point> samples;
  std::deque<console_action> audit;  // newest at the back
  // last_read: when stats() was last asked for (steady clock); the store's counts are taken only
  // within options.watch of it. Empty: never read.
  mutable std::optional<std::chrono::steady_clock::time_point> last_read;
  std::condition_variable wake;
  bool stopping = false;
  std::thread sampler;

  std::size_t max_samples() const {
    const auto every = std::max<std::int64_t>(options.sample_every.count(), 1);
    return static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::milliseconds>(options.history).count() /
                                    every) +
           1;
  }

  // username_of: the user's name, cached for one answer.
  std::string username_of(store::user_id id, std::map<store::user_id, std::string>& cache) {
    if (auto it = cache.find(id); it != cache.end()) return it->second;
    auto u = app.store().get_user(id);
    return cache[id] = u ? u->username : std::string{};
  }

  json::object session_json(const store::session& s, std::map<store::user_id, std::string>& names) {
    const auto now = app.store().time().now();
    json::object o{{"id", s.id},
                   {"connection_id", s.connection_id},
                   {"connected", s.connected},
                   {"request_count", s.request_count},
                   {"created_at", unix_millis(s.created_at)},
                   {"last_seen_at", unix_millis(s.last_seen_at)},
                   {"updated_at", unix_millis(s.updated_at)},
                   {"age_s", std::chrono::duration_cast<std::chrono::seconds>(now - s.created_at).count()}};
    o["user_id"] = s.user ? json::value(*s.user) : json::value(nullptr);
    o["username"] = s.user ? json::value(username_of(*s.user, names)) : json::value(nullptr);
    o["gateway"] = s.gateway ? json::value(*s.gateway) : json::value(nullptr);
    json::array channels;
    if (auto c = app.store().channels_of(s.connection_id)) {
      for (auto& name : *c) channels.emplace_back(name);
    }
    o["channels"] = std::move(channels);
    return o;
  }

  dispatch::response list(const dispatch::request& req) {
    // Newest first: an operator looks for who just connected (or just failed) far more often than
    // for the oldest sessions; `after` is the cursor in that order (ids below it).
    auto q = store::session_query{}.newest_first();
    const auto connected = req.query_value("connected").value_or("yes");
    if (connected == "yes") {
      q = q.connected_only();
    } else if (connected == "no") {
      q = q.disconnected_only();
    } else if (connected != "any") {
      return error_json(400, "connected must be yes, no or any");
    }
    if (auto user = req.query_value("user"); user && !user->empty()) {
      auto id = app.store().find_user_id(*user);
      if (!id) return ok_json({{"sessions", json::array{}}, {"next_after", nullptr}});  // nobody by that name
      q = q.for_user(*id);
    }
    if (auto channel = req.query_value("channel"); channel && !channel->empty()) q = q.in_channel(*channel);
    std::int64_t min_age_s = 0;
    if (auto a = req.query_value("min_age_s"); a && !a->empty()) {
      auto v = parse_int(*a);
      if (!v || *v < 0) return error_json(400, "min_age_s must be a number of seconds");
      min_age_s = *v;
    }
    store::session_id after = 0;
    if (auto a = req.query_value("after"); a && !a->empty()) {
      auto v = parse_int(*a);
      if (!v || *v < 0) return error_json(400, "after must be a session id");
      after = *v;
    }
    std::size_t limit = k_default_limit;
    if (auto l = req.query_value("limit"); l && !l->empty()) {
      auto v = parse_int(*l);
      if (!v || *v < 1 || *v > static_cast<std::int64_t>(k_max_limit)) {
        return error_json(400, "limit must be 1 to " + std::to_string(k_max_limit));
      }
      limit = static_cast<std::size_t>(*v);
    }
    // The age filter is not a store filter: sessions are read a page at a time in id order and
    // filtered here, up to k_max_scanned rows; next_after lets the caller go on from there.
    const auto created_before = app.store().time().now() - std::chrono::seconds(min_age_s);
    std::map<store::user_id, std::string> names;
    json::array out;
    std::size_t scanned = 0;
    bool more = true;
    while (out.size() < limit && scanned < k_max_scanned) {
      auto page = app.store().page(q, after, limit);
      if (!page) return error_json(503, page.error().message);
      if (page->empty()) {
        more = false;
        break;
      }
      for (const auto& s : *page) {
        after = s.id;
        ++scanned;
        if (s.created_at <= created_before) out.emplace_back(session_json(s, names));
        if (out.size() == limit) break;
      }
      if (page->size() < limit && out.size() < limit) {
        more = false;
        break;
      }
    }
    return ok_json({{"sessions", std::move(out)}, {"next_after", more ? json::value(after) : json::value(nullptr)}});
  }

  dispatch::response detail(std::string_view id_text) {
    auto id = parse_int(id_text);
    if (!id) return error_json(404, "No such session");
    auto s = app.store().get_session(*id);
    if (!s) return error_json(s.error() == store::error::not_found ? 404 : 503, s.error().message);
    std::map<store::user_id, std::string> names;
    return ok_json(session_json(*s, names));
  }

  // recipients: the sessions `body` names, or the answer saying why it names none.
  std::variant<dispatch::session_set, dispatch::response> recipients(const json::object& body) {
    const auto target = get_string(body, "target").value_or("");
    const auto value = get_string(body, "value").value_or("");
    auto all = app.sessions();
    if (target == "everyone") return all;
    if (value.empty()) return error_json(400, "value is required for target " + std::string(target));
    if (target == "session") return all.connection(value);
    if (target == "channel") return all.in_channel(value);
    if (target == "user") {
      auto id = app.store().find_user_id(value);
      if (!id) return error_json(404, "No such user");
      return all.for_user(*id);
    }
    return error_json(400, "target must be session, user, channel or everyone");
  }

  dispatch::response preview(const json::object& body) {
    auto set = recipients(body);
    if (auto* refusal = std::get_if<dispatch::response>(&set)) return *refusal;
    auto n = std::get<dispatch::session_set>(set).count();
    if (!n) return error_json(503, n.error().message);
    return ok_json({{"recipients", *n}});
  }

  dispatch::response send(const json::object& body) {
    auto set = recipients(body);
    if (auto* refusal = std::get_if<dispatch::response>(&set)) return *refusal;
    const auto& to = std::get<dispatch::session_set>(set);
    const auto kind = get_string(body, "kind").value_or("toast");
    const auto level = get_string(body, "level").value_or("info");
    const auto text = get_string(body, "message").value_or("");
    result<json::object> msg = failure{core::error::invalid_argument, "kind must be toast or system"};
    if (kind == "toast") {
      msg = apigw::toast(level, get_string(body, "title").value_or(""), text);
    } else if (kind == "system") {
      msg = apigw::system(level, text);
    }
    if (!msg) return error_json(400, msg.error().message);
    auto counted = to.count();
    if (!counted) return error_json(503, counted.error().message);
    // The operator waits for the report: it is the answer to "did they get it?".
    auto report = to.send_message(*msg).wait();
    if (!report) return error_json(report.error() == condition::payload_too_large ? 413 : 503, report.error().message);
    json::array failures;
    for (const auto& f : report->failed) {
      failures.emplace_back(json::object{{"connection_id", f.connection_id}, {"reason", f.reason.message}});
    }
    return ok_json({{"recipients", *counted},
                    {"delivered", report->delivered},
                    {"gone", report->gone.size()},
                    {"failed", report->failed.size()},
                    {"retries", report->retries},
                    {"failures", std::move(failures)}});
  }

  dispatch::response kick(const json::object& body) {
    const auto id = get_string(body, "connection_id").value_or("");
    if (id.empty()) return error_json(400, "connection_id is required");
    auto s = app.store().find_session(id);
    if (!s) return error_json(s.error() == store::error::not_found ? 404 : 503, s.error().message);
    auto closed = app.out().disconnect(*s);
    if (!closed) return error_json(502, closed.error().message);
    return ok_json({{"kicked", *closed}, {"connection_id", id}});
  }

  bool watched() const {
    std::lock_guard lock(mu);
    return last_read && std::chrono::steady_clock::now() - *last_read <= options.watch;
  }

  // record: one write in the audit log: a log line, the in-memory list, and options.on_action.
  void record(const dispatch::request& req, std::string_view action, const json::object& body,
              const dispatch::response& answer) {
    console_action a;
    a.at_ms = unix_millis(app.store().time().now());
    a.actor = options.actor ? options.actor(req) : std::string{};
    a.action = action;
    if (action == "kick") {
      a.target = "session";
      a.value = get_string(body, "connection_id").value_or("");
    } else {
      a.target = get_string(body, "target").value_or("");
      a.value = get_string(body, "value").value_or("");
    }
    a.request = body;
    a.status = answer.status;
    if (auto o = parse_json_object(answer.body)) a.outcome = std::move(*o);
    app.options().log.info("console action", "actor", a.actor, "action", a.action, "target", a.target, "value", a.value,
                           "status", a.status);
    if (options.on_action) options.on_action(a);
    std::lock_guard lock(mu);
    audit.push_back(std::move(a));
    while (audit.size() > options.audit_kept) audit.pop_front();
  }

  dispatch::response audit_json() const {
    json::array out;
    std::lock_guard lock(mu);
    for (auto it = audit.rbegin(); it != audit.rend(); ++it) {
      out.emplace_back(json::object{{"at", it->at_ms},
                                    {"actor", it->actor},
                                    {"action", it->action},
                                    {"target", it->target},
                                    {"value", it->value},
                                    {"request", it->request},
                                    {"status", it->status},
                                    {"outcome", it->outcome}});
    }
    return ok_json({{"actions", std::move(out)}});
  }

  void take_sample() {
    sample_point p;
    p.t_ms = unix_millis(app.store().time().now());
    p.totals = app.metrics().totals();
    // The backend's counters cost nothing to read; the store's counts are one query per channel
    // every second, which a backend nobody is watching should not pay for (on a shared
    // PostgreSQL, every backend process would). Unwatched samples chart the rates and leave the
    // counts empty: the chart shows a gap rather than a guess.
    if (watched()) {
      // A count the store could not give is not charted as 0: the whole sample is skipped, and the
      // charts show a longer step between their neighbours instead of a false dip.
      const auto connected = store::session_query{}.connected_only();
      auto n = app.store().count(connected);
      if (!n) return;
      p.connected = *n;
      if (options.channels) {
        for (const auto& c : options.channels()) {
          auto in_channel = app.store().count(connected.in_channel(c));
          if (!in_channel) return;
          p.channels[c] = *in_channel;
        }
      }
    }
    std::lock_guard lock(mu);
    samples.push_back(std::move(p));
    while (samples.size() > max_samples()) samples.pop_front();
  }

  void run_sampler() {
    std::unique_lock lock(mu);
    while (!stopping) {
      lock.unlock();
      try {
        take_sample();
      } catch (...) {  // a failing store must not end the charts; the next tick tries again
      }
      lock.lock();
      wake.wait_for(lock, options.sample_every, [this] { return stopping; });
    }
  }
};

console::console(dispatch::backend& app, console_options options)
    : impl_(std::make_unique<impl>(app, std::move(options))) {
  if (impl_->options.sample_thread) impl_->sampler = std::thread([i = impl_.get()] { i->run_sampler(); });
}

console::~console() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->sampler.joinable()) impl_->sampler.join();
}

void console::mount(backend_server& http) {
  http.route(impl_->options.prefix, [this](const dispatch::request& req) { return handle(req); });
}

void console::sample() {
  impl_->take_sample();
}

dispatch::response console::handle(const dispatch::request& req) {
  auto& i = *impl_;
  std::string_view path{req.path};
  if (!path.starts_with(i.options.prefix)) return error_json(404, "Not Found");
  path.remove_prefix(i.options.prefix.size());
  if (path.ends_with('/')) path.remove_suffix(1);
  const bool write = req.method == "POST";
  if (!i.options.authorize) return error_json(403, "The console has no authorize rule");
  if (auto refused = i.options.authorize(req, write)) return *refused;

  const bool is_write_route = path == "kick" || path == "send" || path == "preview";
  if (is_write_route) {
    // preview only reads, but it takes the same body as send, and a POST keeps both alike.
    if (!write) return error_json(405, "Use POST");
    auto body = parse_json_object(req.body);
    if (!body) return error_json(400, "The body must be a JSON object");
    if (path == "preview") return i.preview(*body);
    auto answer = path == "kick" ? i.kick(*body) : i.send(*body);
    i.record(req, path, *body, answer);
    return answer;
  }
  if (req.method != "GET") return error_json(405, "Use GET");
  if (path == "sessions") return i.list(req);
  if (path.starts_with("sessions/")) return i.detail(path.substr(9));
  if (path == "stats") return ok_json(stats());
  if (path == "audit") return i.audit_json();
  return error_json(404, "Not Found");
}

json::object console::stats() const {
  auto& i = *impl_;
  std::vector<sample_point> s;
  {
    std::lock_guard lock(i.mu);
    s.assign(i.samples.begin(), i.samples.end());
    i.last_read = std::chrono::steady_clock::now();
  }
  json::array t, connected, messages, connects, delivered, gone, failed;
  // Per channel: connected sessions (watched samples) and messages sent to it per second.
  std::map<std::string, json::array> channels, channel_rates;
  const auto names = i.options.channels ? i.options.channels() : std::vector<std::string>{};
  for (const auto& name : names) {
    channels[name];
    channel_rates[name];
  }
  const auto rate = [](std::uint64_t now, std::uint64_t before, double seconds) {
    return now < before || seconds <= 0 ? 0.0 : static_cast<double>(now - before) / seconds;
  };
  // Each point after the first: the rates are the change since the previous sample.
  for (std::size_t k = 1; k < s.size(); ++k) {
    const auto& a = s[k - 1];
    const auto& b = s[k];
    const double dt = static_cast<double>(b.t_ms - a.t_ms) / 1000.0;
    t.emplace_back(b.t_ms);
    connected.emplace_back(b.connected ? json::value(*b.connected) : json::value(nullptr));
    messages.emplace_back(rate(b.totals.messages, a.totals.messages, dt));
    connects.emplace_back(rate(b.totals.connects, a.totals.connects, dt));
    delivered.emplace_back(rate(b.totals.delivered, a.totals.delivered, dt));
    gone.emplace_back(rate(b.totals.gone, a.totals.gone, dt));
    failed.emplace_back(rate(b.totals.failed, a.totals.failed, dt));
    for (auto& [name, series] : channels) {
      auto it = b.channels.find(name);
      series.emplace_back(it == b.channels.end() ? json::value(nullptr) : json::value(it->second));
    }
    for (auto& [name, series] : channel_rates) {
      const auto now = b.totals.channels.find(name);
      const auto before = a.totals.channels.find(name);
      series.emplace_back(rate(now == b.totals.channels.end() ? 0 : now->second.sends,
                               before == a.totals.channels.end() ? 0 : before->second.sends, dt));
    }
  }
  json::object ch, ch_rates;
  for (auto& [name, series] : channels) ch[name] = std::move(series);
  for (auto& [name, series] : channel_rates) ch_rates[name] = std::move(series);
  json::object totals;
  if (!s.empty()) {
    const auto& last = s.back().totals;
    totals = json::object{{"messages", last.messages},   {"connects", last.connects}, {"sends", last.sends},
                          {"delivered", last.delivered}, {"gone", last.gone},         {"failed", last.failed},
                          {"retries", last.retries}};
  }
  return json::object{{"interval_ms", i.options.sample_every.count()},
                      {"t", std::move(t)},
                      {"connected", std::move(connected)},
                      {"messages_per_s", std::move(messages)},
                      {"connects_per_s", std::move(connects)},
                      {"delivered_per_s", std::move(delivered)},
                      {"gone_per_s", std::move(gone)},
                      {"failed_per_s", std::move(failed)},
                      {"channels", std::move(ch)},
                      {"channel_messages_per_s", std::move(ch_rates)},
                      {"totals", std::move(totals)}};
}

}  // namespace apigw::server
