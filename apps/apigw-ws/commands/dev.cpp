// apigw-ws dev: the whole system on one machine with one command: the local gateway and the example
// backend (every example app, SQLite in a data folder), demo users, and the URL to open. They run
// in one process on separate io_contexts and ports, and the gateway reaches the backend only over
// HTTP on loopback, exactly as API Gateway would. SIGINT/SIGTERM stop both cleanly (the gateway
// first, so every open socket's $disconnect still reaches the backend); SIGUSR1 restarts the
// gateway on the same port, to watch clients reconnect by themselves. With --tls both serve TLS
// (https://, wss://) with a certificate from a local CA made once in the data folder, and the
// command prints how to trust that CA; SIGHUP re-reads the certificate files.
//
// The gateway proves itself to the backend as on AWS: a shared secret, new on every run, that the
// backend requires (backend_options::security.shared_secret) and the gateway's integrations inject
// as a static request parameter. Any other local process posting to /ws/* is refused.
#include "cli_common.hpp"

#include "demo_site.hpp"

#include "apigw/core/ids.hpp"
#include "apigw/dispatch/backend.hpp"
#include "apigw/dispatch/job_worker.hpp"
#include "apigw/dispatch/sender_delivery.hpp"
#include "apigw/gateway/config.hpp"
#include "apigw/gateway/gateway.hpp"
#include "apigw/mgmt/sender.hpp"
#include "apigw/net/tls.hpp"
#include "apigw/server/server.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#ifndef APIGW_SOURCE_DIR
#define APIGW_SOURCE_DIR "."
#endif

namespace apigw::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct dev_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  std::uint16_t gateway_port = 4510;
  std::string data_dir = "apigw-dev-data";
  std::string source_dir = APIGW_SOURCE_DIR;
  // connect_limit: connection attempts per minute per client address and per user, and connect
  // tokens per minute per user (the library's defaults); 0: no limit.
  std::size_t connect_limit = 20;
  // allow_origins: pages on other origins that may use the backend (CORS with credentials on the
  // token, login and app endpoints) and open the WebSocket (the $connect Origin check).
  std::vector<std::string> allow_origins;
  // TLS: --tls makes a local CA and a certificate once (in <data>/tls); --tls-cert/--tls-key use
  // the given ones instead (--tls-ca: the CA the gateway trusts for the backend besides the system's).
  bool tls = false;
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::optional<std::string> tls_ca;
  log_options log;
};

// dev_tls: the certificate both servers use and the CA the gateway and the sender trust.
struct dev_tls {
  fs::path certificate;
  fs::path key;
  std::string ca_pem;  // may be empty: the system store only
  fs::path ca_file;    // what to tell the user to trust (--tls)
  bool created = false;
};

// write_private: writes `content` to `file`, readable by the owner only.
void write_private(const fs::path& file, const std::string& content) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

std::string read_whole(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// local_tls: <data>/tls/{ca.pem, ca-key.pem, cert.pem, key.pem}, made on the first --tls run (a CA
// of this data folder only, and a certificate for localhost, 127.0.0.1, ::1 and --host) and
// reused after, so the browser's trust in the CA lasts. Delete the folder for new ones.
result<dev_tls> local_tls(const fs::path& data, const std::string& host) {
  const fs::path dir = data / "tls";
  dev_tls out{dir / "cert.pem", dir / "key.pem", {}, dir / "ca.pem", false};
  if (fs::exists(out.ca_file) && fs::exists(out.certificate) && fs::exists(out.key)) {
    out.ca_pem = read_whole(out.ca_file);
    return out;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return failure{core::error::io_error, fmt::format("cannot create {}: {}", dir.string(), ec.message())};
  auto ca = net::make_local_ca(fmt::format("apigw-ws dev CA ({})", data.string()));
  if (!ca) return ca.error();
  std::vector<std::string> names{"localhost", "127.0.0.1", "::1"};
  if (std::find(names.begin(), names.end(), host) == names.end() && host != "0.0.0.0" && host != "::") {
    names.push_back(host);
  }
  auto leaf = net::issue_server_certificate(*ca, names);
  if (!leaf) return leaf.error();
  write_private(dir / "ca-key.pem", ca->key);
  write_private(out.ca_file, ca->certificate);
  write_private(out.key, leaf->key);
  write_private(out.certificate, leaf->certificate);
  out.ca_pem = ca->certificate;
  out.created = true;
  return out;
}

// trust_instructions: how to make browsers and tools on this machine trust the dev CA.
std::string trust_instructions(const dev_tls& t) {
  const auto spki = net::spki_sha256_base64(read_whole(t.certificate));
  const auto ca = shell_quote(t.ca_file.string());
  return fmt::format(
      "  TLS            certificate {} (CA {}{})\n"
      "  Trust the CA, one of:\n"
      "    Chromium/Chrome (this user, NSS):  certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n apigw-ws-dev -i {}\n"
      "    Firefox: Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import {}\n"
      "    Debian/Ubuntu system store:        sudo cp {} /usr/local/share/ca-certificates/apigw-ws-dev.crt && "
      "sudo update-ca-certificates\n"
      "    macOS:  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {}\n"
      "    One Chromium run, no install:      chromium --ignore-certificate-errors-spki-list={}\n"
      "    curl / apigw-ws send:              SSL_CERT_FILE={} (or curl --cacert {})\n",
      shell_quote(t.certificate.string()), ca, t.created ? ", made now" : "", ca, ca, ca, ca,
      spki ? *spki : std::string("?"), ca, ca);
}

// read_or_create: the file's first line, or `make()` written to it (mode 0600) when it is missing.
std::string read_or_create(const fs::path& file, const std::function<std::string()>& make) {
  if (std::ifstream in(file); in) {
    std::string line;
    std::getline(in, line);
    if (!line.empty()) return line;
  }
  auto value = make();
  std::ofstream(file) << value << '\n';
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return value;
}

std::string random_password() {
  return new_token_hex().value().substr(0, 12);
}

// demo_users: creates alice (admin) and bob on the first run; their passwords live in
// <data>/logins.txt so later runs print the same ones.
result<std::map<std::string, std::string>> demo_users(dispatch::builtin_authenticator& auth, store::session_store& db,
                                                      const fs::path& data) {
  std::map<std::string, std::string> logins;
  for (const auto* name : {"alice", "bob"}) {
    const auto password = read_or_create(data / fmt::format("{}.password", name), random_password);
    logins[name] = password;
    if (db.find_user_id(name)) continue;
    auto user = auth.add_user(name, password);
    if (!user) return user.error();
    if (std::string_view{name} == "alice") {
      if (auto g = db.grant_permission(user->id, "admin"); !g) return g.error();
    }
  }
  return logins;
}

// free_port: a port the kernel calls free now (for --port 0).
std::uint16_t free_port(const std::string& host) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address(host), 0});
  return a.local_endpoint().port();
}

// io_thread: an io_context run by one thread; destroying it stops the context and closes every
// socket still open on it.
struct io_thread {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~io_thread() {
    work.reset();
    io.stop();
    thread.join();
  }
};

int run_dev(const globals& g, const dev_options& o) {
  const fs::path data = fs::absolute(o.data_dir);
  fs::create_directories(data);
  const fs::path source = fs::absolute(o.source_dir);
  if (!fs::exists(source / "web" / "apigw-ws.js") || !fs::exists(source / "examples" / "index.html")) {
    return fail("dev", failure{core::error::invalid_argument,
                               fmt::format("{} has no web/apigw-ws.js or examples/index.html; pass --source-dir "
                                           "(the apigw-ws source tree)",
                                           source.string())});
  }
  globals store_globals = g;
  store_globals.db = (data / "apigw.sqlite3").string();
  auto db = open_migrated_store(store_globals, /*migrate=*/true);
  if (!db) return fail("dev: store", db.error());
  auto& store = **db;
  auto& clock = system_clock_source::instance();

  std::optional<dev_tls> tls;
  if (o.tls) {
    auto made = local_tls(data, o.host);
    if (!made) return fail("dev --tls", made.error());
    tls = std::move(*made);
  } else if (o.tls_cert) {
    tls = dev_tls{*o.tls_cert, *o.tls_key, {}, {}, false};
    if (o.tls_ca) {
      tls->ca_pem = read_whole(*o.tls_ca);
      if (tls->ca_pem.empty()) {
        return fail("dev --tls-ca", failure{core::error::invalid_argument, "cannot read " + *o.tls_ca});
      }
    }
  }
  const std::string http_scheme = tls ? "https" : "http";
  const std::string ws_scheme = tls ? "wss" : "ws";

  const auto secret = read_or_create(data / "cookie-secret", [] { return new_token_hex().value(); });
  // Over https the session cookie is Secure, as in production.
  dispatch::builtin_authenticator auth(store, clock, secret, {.secure_cookie = tls.has_value()});
  auto logins = demo_users(auth, store, data);
  if (!logins) return fail("dev: demo users", logins.error());

  // The allowed origins name the backend's port, so port 0 (tests) is resolved here, up front.
  const std::uint16_t port = o.port != 0 ? o.port : free_port(o.host);
  mgmt::sender_options sender_opts;
  if (tls) sender_opts.pool.extra_ca_pem = tls->ca_pem;  // @connections of the local gateway, over https
  mgmt::sender sender(sender_opts);
  dispatch::sender_delivery delivery(sender, store);
  // Durable sends (`apigw-ws send --durable`, send_durable) are only recorded in the store; this
  // worker sends them, and a page a killed dev left claimed once its lease has expired.
  dispatch::job_worker jobs(sender, store);
  jobs.start();
  dispatch::backend_options bopts;
  // A new secret on every run: nothing to store, and a leaked one dies with the process.
  auto gateway_secret = new_token_hex();
  if (!gateway_secret) return fail("dev: gateway secret", gateway_secret.error());
  bopts.security.shared_secret = *gateway_secret;
  // The pages may be opened as http(s)://127.0.0.1:PORT or http(s)://localhost:PORT.
  bopts.security.allowed_origins = {fmt::format("{}://127.0.0.1:{}", http_scheme, port),
                                    fmt::format("{}://localhost:{}", http_scheme, port)};
  bopts.security.allowed_origins.insert(bopts.security.allowed_origins.end(), o.allow_origins.begin(),
                                        o.allow_origins.end());
  bopts.security.check_origin_host = false;
  bopts.workers = 8;
  // Every page on this machine connects from one address, so a busy session of tabs (or a test
  // suite) may need more than the default.
  bopts.rate_limit.enabled = o.connect_limit != 0;
  bopts.rate_limit.max_attempts = o.connect_limit;
  bopts.tokens.max_issued_per_minute = o.connect_limit;
  // One stderr log for both parts; each line says which one wrote it.
  const auto log = make_logger(g, o.log);
  bopts.log = log.with("component", "backend");
  bopts.history.rules = examples::history_rules();
  dispatch::backend app(store, delivery, auth, clock, bopts);

  std::optional<examples::demo_site> site;
  try {
    site.emplace(examples::site_context{app, auth}, examples::site_paths{.examples_dir = source / "examples",
                                                                         .web_dir = source / "web",
                                                                         .data_dir = data,
                                                                         .cli_db = store_globals.db,
                                                                         .cli_program = self_command()});
  } catch (const std::exception& e) {
    return fail("dev: example apps", failure{core::error::invalid_argument, e.what()});
  }
  server::server_options sopts{.address = o.host, .port = port, .io_threads = 2, .blocking_threads = 4};
  sopts.cors.allowed_origins = o.allow_origins;
  if (tls) {
    // SIGHUP re-reads the files (the backend server watches for it).
    sopts.tls_certificate = tls->certificate;
    sopts.tls_key = tls->key;
  }
  server::backend_server http(app, sopts, &auth);
  site->mount(http);
  std::atomic<std::uint16_t> gateway_port{o.gateway_port};
  http.route("/api/ws-config/", [&](const dispatch::request& req) {
    // The socket's host is the page's own host name, so the browser sends its cookie with it.
    std::string host{req.header_value("Host").value_or(o.host)};
    if (auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
    return response::json(200,
                          json::object{{"url", fmt::format("{}://{}:{}/dev", ws_scheme, host, gateway_port.load())}});
  });
  if (auto started = http.start(); !started) return fail("dev: backend", started.error());
  const auto backend_base = fmt::format("{}://{}:{}/ws/", http_scheme, o.host, http.port());

  // Each gateway instance gets its own io_context, so a restart also closes the old instance's
  // keep-alive @connections sockets (the sender then reconnects to the new one).
  std::optional<io_thread> gw_io;
  gateway::gateway_options gopts;
  gopts.address = o.host;
  gopts.port = o.gateway_port;
  gopts.log = log.with("component", "gateway");
  if (tls) {
    gopts.tls_certificate = tls->certificate;
    gopts.tls_key = tls->key;
    gopts.integration_ca_pem = tls->ca_pem;  // the backend's certificate
  }
  std::optional<gateway::gateway> gw;
  auto gateway_config = gateway::default_dev_config(backend_base);
  add_request_id_header(gateway_config);
  for (auto& api : gateway_config.apis) {
    for (auto& [id, integration] : api.integrations) {
      if (integration.is_mock()) continue;  // answered by the gateway: no request to carry the secret
      integration.request_parameters["integration.request.header." + bopts.security.shared_secret_header] =
          fmt::format("'{}'", bopts.security.shared_secret);
    }
  }
  auto start_gateway = [&]() -> result<void> {
    gw_io.emplace();
    gw.emplace(gw_io->io.get_executor(), gateway_config, gopts);
    if (auto r = gw->start(); !r) return r;
    gateway_port = gw->port();
    gopts.port = gw->port();  // a restart keeps the port
    return ok();
  };
  auto stop_gateway = [&] {
    if (!gw) return;
    boost::asio::co_spawn(gw_io->io, gw->shutdown(5s), boost::asio::use_future).get();
    gw.reset();
    gw_io.reset();
  };
  if (auto r = start_gateway(); !r) {
    http.shutdown();
    return fail("dev: gateway", r.error());
  }
  store::gateway row;
  row.name = "local";
  row.api_id = "devapi0001";
  row.stage = "dev";
  row.endpoint = fmt::format("{}://{}:{}/dev", http_scheme, o.host, gateway_port.load());
  row.target_base = backend_base;
  if (auto r = store.upsert_gateway(row); !r) {
    stop_gateway();
    http.shutdown();
    return fail("dev: register the gateway", r.error());
  }

  const auto url = fmt::format("{}://{}:{}/", http_scheme, o.host, http.port());
  // The commands below are for pasting into another shell: they name this binary by its path when
  // `apigw-ws` on PATH is not this binary (a build folder), and quote the database path.
  const auto self = self_command();
  const auto db_arg = shell_quote(store_globals.db);
  std::printf(
      "\napigw-ws dev is running.\n\n"
      "  Open           %s\n"
      "  Log in as      alice / %s   (admin: may notify everyone)\n"
      "                 bob   / %s\n"
      "  Gateway        %s://%s:%u/dev   (@connections at %s://%s:%u/dev/@connections/{id})\n"
      "  Backend        %s{connect,disconnect,default}\n"
      "  Data           %s\n%s\n"
      "  From another shell:\n"
      "    %s --db %s send --all --json "
      "'{\"type\":\"system\",\"level\":\"warning\",\"message\":\"Maintenance at 18:00\"}'\n"
      "    %s --db %s sessions list\n\n"
      "Ctrl-C stops both; kill -USR1 %d restarts the gateway%s.\n"
      "ready url=%s gateway=%s://%s:%u/dev\n",
      url.c_str(), (*logins)["alice"].c_str(), (*logins)["bob"].c_str(), ws_scheme.c_str(), o.host.c_str(),
      gateway_port.load(), http_scheme.c_str(), o.host.c_str(), gateway_port.load(), backend_base.c_str(), data.c_str(),
      tls && !tls->ca_file.empty() ? trust_instructions(*tls).c_str() : "", self.c_str(), db_arg.c_str(), self.c_str(),
      db_arg.c_str(), static_cast<int>(::getpid()), tls ? "; kill -HUP re-reads the certificate" : "", url.c_str(),
      ws_scheme.c_str(), o.host.c_str(), gateway_port.load());
  std::fflush(stdout);

  // The main thread waits for signals; everything else runs on the other threads.
  boost::asio::io_context control;
  boost::asio::signal_set stop_signals(control, SIGINT, SIGTERM);
  boost::asio::signal_set restart_signal(control, SIGUSR1);
  boost::asio::signal_set reload_signal(control);
  std::function<void(const boost::system::error_code&, int)> on_reload = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    // The backend server reloads on its own; the gateway's is reloaded here.
    if (gw) {
      if (auto r = gw->reload_tls(); !r) log.error("gateway TLS certificate not reloaded", "error", r.error().message);
    }
    reload_signal.async_wait(on_reload);
  };
  if (tls) {
    reload_signal.add(SIGHUP);
    reload_signal.async_wait(on_reload);
  }
  stop_signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) control.stop();
  });
  std::function<void(const boost::system::error_code&, int)> on_restart = [&](const boost::system::error_code& ec,
                                                                              int) {
    if (ec) return;
    log.warn("restarting the gateway", "signal", "SIGUSR1");
    stop_gateway();
    if (auto r = start_gateway(); !r) {
      log.error("the gateway did not restart", "error", r.error().message);
      control.stop();
      return;
    }
    restart_signal.async_wait(on_restart);
  };
  restart_signal.async_wait(on_restart);
  control.run();

  std::printf("\napigw-ws dev: stopping\n");
  std::fflush(stdout);
  stop_gateway();  // closes every socket; the $disconnects reach the backend, still running
  http.shutdown();
  site.reset();  // stops running tasks
  app.stop();
  boost::system::error_code ignored;
  stop_signals.clear(ignored);
  reload_signal.clear(ignored);
  ignore_stop_signals();
  return k_exit_ok;
}

}  // namespace

void register_dev(CLI::App& app, const globals& g, command_runner& run) {
  auto o = std::make_shared<dev_options>();
  auto* cmd = app.add_subcommand(
      "dev",
      "Run the local gateway and the example apps (chat, notifications, task progress, live dashboard) with demo "
      "users; open the printed URL. Data (SQLite, demo passwords) goes to --data-dir.");
  cmd->add_option("--host", o->host, "Address for both servers")->capture_default_str();
  cmd->add_option("--port", o->port, "Backend (web pages) port; 0: any free port")->capture_default_str();
  cmd->add_option("--gateway-port", o->gateway_port, "Gateway port; 0: any free port")->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir, "Folder for the databases and demo passwords (created)")
      ->capture_default_str();
  cmd->add_option("--connect-limit", o->connect_limit,
                  "WebSocket connection attempts per minute per client address and per user, and connect tokens per "
                  "minute per user; 0: no limit")
      ->capture_default_str();
  cmd->add_option("--source-dir", o->source_dir, "The apigw-ws source tree (examples/ and web/ are served from it)")
      ->capture_default_str();
  cmd->add_option("--allow-origin", o->allow_origins,
                  "A page origin besides the backend's own that may use it from a browser (CORS with credentials, "
                  "the WebSocket's Origin check), e.g. http://127.0.0.1:5173 (repeatable)");
  auto* tls = cmd->add_flag("--tls", o->tls,
                            "Serve https:// and wss:// with a local CA and certificate made once in <data-dir>/tls; "
                            "prints how to trust the CA");
  auto* cert = cmd->add_option("--tls-cert", o->tls_cert,
                               "Serve https:// and wss:// with this PEM certificate chain instead (re-read on SIGHUP)")
                   ->check(CLI::ExistingFile);
  auto* key = cmd->add_option("--tls-key", o->tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  auto* ca = cmd->add_option("--tls-ca", o->tls_ca,
                             "PEM CA the gateway trusts for the backend's --tls-cert besides the system store")
                 ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  ca->needs(cert);
  tls->excludes(cert);
  add_log_options(cmd, o->log, "warn");
  add_example(cmd, "apigw-ws dev --port 8000 --gateway-port 4510 --data-dir apigw-dev-data");
  add_example(cmd, "apigw-ws dev --allow-origin http://127.0.0.1:5173   # a single-page app served elsewhere");
  add_example(cmd, "apigw-ws dev --log-level info --log-format json");
  add_example(cmd, "apigw-ws dev --tls   # https://127.0.0.1:8000/ and wss://; prints how to trust the local CA");
  add_example(cmd, "apigw-ws dev --tls-cert cert.pem --tls-key key.pem --tls-ca ca.pem");
  cmd->callback([&g, &run, o] { run = [&g, o]() -> int { return run_dev(g, *o); }; });
}

}  // namespace apigw::cli
