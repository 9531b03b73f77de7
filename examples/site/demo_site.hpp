// examples/site/demo_site.hpp: every example app behind one view and one backend server, as
// `apigw-ws dev` serves them:
//
//   /                      the landing page (links to every app)
//   /app/<app>/            the apps' static pages (examples/<app>/*.html|js|css)
//   /web/apigw-ws.js       the browser client
//   /api/me/               who is logged in, with the CSRF token the pages send on writes
//   /api/site/             facts about this instance for the landing page's commands
//                          ({"db": ..., "program": ...})
//   /api/orders/, /api/tasks/<id>, /api/session-counts/   the apps' JSON APIs
//   /api/console/          the operator console (admin permission only; apigw/server/console.hpp)
//   /ws/connect|disconnect|default                       API Gateway's integration requests
//
// One view serves every app because the dev gateway routes every message to /ws/default and the
// backend picks the handler by the body's "handler".
#pragma once

#include "site_context.hpp"

#include "apigw/dispatch/history.hpp"
#include "apigw/server/server.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace examples {

// site_paths: where the site's files are.
struct site_paths {
  std::filesystem::path examples_dir;  // examples/ (the apps' pages)
  std::filesystem::path web_dir;       // web/ (apigw-ws.js)
  std::filesystem::path data_dir;      // the orders database goes here
  // cli_db: what `apigw-ws --db` takes to reach this site's session store; the landing page shows
  // it in its commands (GET /api/site/, logged-in users only). Empty: not shown. Never a URL with
  // a password in it: every logged-in user can read it.
  std::string cli_db;
  // cli_program: how to run apigw-ws from a shell here (a bare name only when that name on PATH
  // is the right binary), so the landing page's commands work when pasted. Empty: "apigw-ws".
  std::string cli_program;
};

// history_rules: the channels of the apps that keep history: a chat room its last
// chat_rooms::k_history messages (what a join shows, and what a reconnecting page recovers), a task
// its progress for an hour (a page that reconnects catches up, e.g. after a gateway restart). Pass
// them as backend_options::history.rules.
std::vector<apigw::dispatch::history_rule> history_rules();

class demo_site {
 public:
  // demo_site: builds the apps; throws std::runtime_error when the orders database cannot be opened.
  demo_site(site_context site, site_paths paths);
  ~demo_site();
  demo_site(const demo_site&) = delete;
  demo_site& operator=(const demo_site&) = delete;

  // mount: the view at /ws/ and every route on `http` (before http.start()).
  void mount(apigw::server::backend_server& http);
  apigw::view& view() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace examples
