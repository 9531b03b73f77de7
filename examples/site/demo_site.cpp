// examples/site/demo_site.cpp: see demo_site.hpp.
#include "demo_site.hpp"

#include "chat_rooms.hpp"
#include "notifications.hpp"
#include "orders_dashboard.hpp"
#include "task_runner.hpp"

#include "apigw/server/console.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>

namespace examples {
namespace {

// file_response: a static file of the site (only page types: html, js, css, svg, png), or 404.
apigw::response file_response(const std::filesystem::path& root, std::string_view relative) {
  std::string rel{relative};
  if (rel.empty() || rel.ends_with('/')) rel += "index.html";
  const auto file = apigw::server::resolve_static(root, rel);
  static const std::array<std::string_view, 5> allowed{".html", ".js", ".css", ".svg", ".png"};
  if (!file || std::ranges::find(allowed, file->extension().string()) == allowed.end()) {
    return apigw::response::text(404, "Not Found");
  }
  std::ifstream in(*file, std::ios::binary);
  apigw::response r;
  r.content_type = apigw::server::content_type_for(*file);
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  r.headers.push_back({"Cache-Control", "no-cache"});
  return r;
}

}  // namespace

struct demo_site::impl {
  impl(site_context s, site_paths p)
      : site(s),
        paths(std::move(p)),
        chat(site),
        tasks(site),
        dashboard(site, paths.data_dir / "orders.sqlite3", channels()),
        console(site.app, {.prefix = "/api/console/",
                           .authorize = apigw::server::require_permission(site.auth, k_admin_permission),
                           .channels =
                               [this] {
                                 auto c = channels();
                                 c.emplace_back("console");  // the console pages themselves
                                 return c;
                               },
                           .actor = apigw::server::username_of(site.auth),
                           .on_action = [this](const apigw::server::console_action& a) { announce(a); }}) {}

  // announce: a system banner the console sent to everyone becomes the announcement shown to
  // visitors who are not logged in (they have no socket to receive it on) for k_announcement_for.
  // It lives in this process: with several backend processes, keep it in a shared store instead.
  void announce(const apigw::server::console_action& a) {
    if (a.action != "send" || a.target != "everyone" || a.status != 200) return;
    if (apigw::get_string(a.request, "kind").value_or("") != "system") return;
    std::lock_guard lock(announcement_mu);
    announcement = apigw::json::object{{"level", apigw::get_string(a.request, "level").value_or("info")},
                                       {"message", apigw::get_string(a.request, "message").value_or("")},
                                       {"at", a.at_ms}};
  }

  // public_announcement: GET /api/announcement/, for anyone: {"announcement": {level, message, at} | null}.
  apigw::response public_announcement() {
    apigw::json::value current = nullptr;
    {
      std::lock_guard lock(announcement_mu);
      const auto now_ms = apigw::unix_millis(site.app.time().now());
      if (announcement && now_ms - announcement->at("at").as_int64() < k_announcement_for.count()) {
        current = *announcement;
      }
    }
    auto r = apigw::response::json(200, apigw::json::object{{"announcement", std::move(current)}});
    r.headers.push_back({"Cache-Control", "no-store"});
    return r;
  }

  std::vector<std::string> channels() const {
    std::vector<std::string> c{"home", "chat", "notifications", "progress", orders_dashboard::k_channel};
    for (const auto& room : chat.rooms()) c.push_back(chat_rooms::channel_of(room));
    return c;
  }

  apigw::response me(const apigw::dispatch::request& req) {
    auto who = logged_in(site, req);
    if (!who) return error_json(401, "Not logged in");
    // The session key is the third field of the signed cookie "<user>.<expiry>.<key>.<mac>";
    // from_request has just verified the MAC.
    const auto cookie = req.cookie(site.auth.options().session_cookie).value_or("");
    std::string_view rest{cookie};
    for (int i = 0; i < 2 && rest.find('.') != std::string_view::npos; ++i) rest.remove_prefix(rest.find('.') + 1);
    const auto key = rest.substr(0, rest.find('.'));
    apigw::json::array permissions;
    for (const auto& p : who->permissions) permissions.emplace_back(p);
    return apigw::response::json(200, apigw::json::object{{"username", who->username},
                                                          {"permissions", std::move(permissions)},
                                                          {"csrf_token", site.auth.csrf_token(key)}});
  }

  apigw::response site_info(const apigw::dispatch::request& req) {
    if (!logged_in(site, req)) return error_json(401, "Not logged in");
    apigw::json::object info;
    if (!paths.cli_db.empty()) info["db"] = paths.cli_db;
    if (!paths.cli_program.empty()) info["program"] = paths.cli_program;
    return apigw::response::json(200, std::move(info));
  }

  site_context site;
  site_paths paths;
  apigw::view view;
  chat_rooms chat;
  task_runner tasks;
  orders_dashboard dashboard;
  // console: the operator console's API (/api/console/, admins only); its page is /app/console/.
  apigw::server::console console;
  static constexpr std::chrono::milliseconds k_announcement_for{std::chrono::hours(1)};
  std::mutex announcement_mu;
  std::optional<apigw::json::object> announcement;
};

std::vector<apigw::dispatch::history_rule> history_rules() {
  using namespace std::chrono_literals;
  return {{"chat-*", {.max_messages = chat_rooms::k_history}}, {"task-*", {.max_messages = 200, .max_age = 1h}}};
}

demo_site::demo_site(site_context site, site_paths paths) : impl_(std::make_unique<impl>(site, std::move(paths))) {
  auto& i = *impl_;
  i.view.enable_channel_handlers();
  // The browser client's heartbeat: a data frame that keeps the socket inside the gateway's idle
  // limit; nothing to answer.
  i.view.handle("heartbeat", [](apigw::request_context&) { return apigw::response::ok(); });
  i.chat.install(i.view);
  install_notifications(i.view);
  i.tasks.install(i.view);
  // No sends from $connect: API Gateway accepts the socket only after $connect answered, so a
  // message to the connecting session would come back 410 Gone and mark it disconnected. The
  // dashboard's session counts are published by its own ticker instead.
  i.view.on_disconnect([p = impl_.get()](apigw::request_context& ctx) {
    p->chat.left(ctx);
    return apigw::response::ok();
  });
}

demo_site::~demo_site() = default;

apigw::view& demo_site::view() noexcept {
  return impl_->view;
}

void demo_site::mount(apigw::server::backend_server& http) {
  auto* p = impl_.get();
  http.mount("/ws/", p->view);
  http.route("/", [p](const apigw::dispatch::request& req) {
    if (req.path != "/") return apigw::response::text(404, "Not Found");
    return file_response(p->paths.examples_dir, "index.html");
  });
  http.route("/app/", [p](const apigw::dispatch::request& req) {
    return file_response(p->paths.examples_dir, std::string_view{req.path}.substr(5));
  });
  http.route("/web/", [p](const apigw::dispatch::request& req) {
    return file_response(p->paths.web_dir, std::string_view{req.path}.substr(5));
  });
  http.route("/api/me/", [p](const apigw::dispatch::request& req) { return p->me(req); });
  http.route("/api/site/", [p](const apigw::dispatch::request& req) { return p->site_info(req); });
  http.route("/api/announcement/", [p](const apigw::dispatch::request&) { return p->public_announcement(); });
  http.route("/api/orders/", [p](const apigw::dispatch::request& req) { return p->dashboard.orders(req); });
  http.route("/api/session-counts/", [p](const apigw::dispatch::request& req) { return p->dashboard.counts(req); });
  p->console.mount(http);
  http.route("/api/tasks/", [p](const apigw::dispatch::request& req) { return p->tasks.result(req); });
}

}  // namespace examples
