// apigw-ws users add|passwd|grant|revoke|list: the built-in user store (Argon2id password hashes)
// that the built-in authenticator logs people in against.
//
// Passwords never appear on the command line (where `ps` and shell history would show them): they
// are read from the APIGW_PASSWORD environment variable, or from the first line of stdin with
// --password-stdin.
#include "apigw/dispatch/auth.hpp"
#include "cli_common.hpp"

#include "apigw/core/json.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>

namespace apigw::cli {
namespace {

struct user_options {
  std::string username;
  std::string permission;
  bool password_stdin = false;
  std::string format = "text";
};

// read_password: from stdin (--password-stdin) or APIGW_PASSWORD; invalid_argument when neither
// gives a non-empty password.
result<std::string> read_password(const user_options& o) {
  std::string pw;
  if (o.password_stdin) {
    std::getline(std::cin, pw);
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  } else if (const char* env = std::getenv("APIGW_PASSWORD"); env != nullptr) {
    pw = env;
  }
  if (pw.empty()) {
    return failure{core::error::invalid_argument,
                   "no password: set APIGW_PASSWORD or pass --password-stdin and write it to stdin"};
  }
  return pw;
}

int add(const globals& g, const user_options& o) {
  auto pw = read_password(o);
  if (!pw) return fail("users add", pw.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("users add", st.error());
  auto hash = dispatch::hash_password(*pw);
  if (!hash) return fail("users add", hash.error());
  auto u = (*st)->create_user(o.username, *hash);
  if (!u) return fail("users add", u.error());
  if (!g.quiet) fmt::print("added user {} (id {})\n", u->username, u->id);
  return k_exit_ok;
}

int passwd(const globals& g, const user_options& o) {
  auto pw = read_password(o);
  if (!pw) return fail("users passwd", pw.error());
  auto st = open_migrated_store(g);
  if (!st) return fail("users passwd", st.error());
  auto u = (*st)->find_user(o.username);
  if (!u) return fail("users passwd", u.error());
  auto hash = dispatch::hash_password(*pw);
  if (!hash) return fail("users passwd", hash.error());
  if (auto r = (*st)->set_password_hash(u->id, *hash); !r) return fail("users passwd", r.error());
  if (!g.quiet) fmt::print("changed the password of {}\n", u->username);
  return k_exit_ok;
}

int grant(const globals& g, const user_options& o, bool give) {
  const char* what = give ? "users grant" : "users revoke";
  auto st = open_migrated_store(g);
  if (!st) return fail(what, st.error());
  auto u = (*st)->find_user(o.username);
  if (!u) return fail(what, u.error());
  auto changed = give ? (*st)->grant_permission(u->id, o.permission) : (*st)->revoke_permission(u->id, o.permission);
  if (!changed) return fail(what, changed.error());
  if (!g.quiet) {
    fmt::print("{} {} {} '{}'\n", u->username,
               *changed ? (give ? "now has" : "no longer has") : (give ? "already had" : "did not have"), "permission",
               o.permission);
  }
  return k_exit_ok;
}

int list(const globals& g, const user_options& o) {
  auto st = open_migrated_store(g);
  if (!st) return fail("users list", st.error());
  auto users = (*st)->list_users();
  if (!users) return fail("users list", users.error());
  json::array out;
  if (o.format != "json") fmt::print("{:>6}  {:<24} {:<24} {}\n", "ID", "USERNAME", "CREATED", "PERMISSIONS");
  for (const auto& u : *users) {
    auto perms = (*st)->permissions_of(u.id);
    if (!perms) return fail("users list", perms.error());
    if (o.format == "json") {
      json::array ps;
      for (const auto& p : *perms) ps.emplace_back(p);
      out.push_back(json::object{{"id", u.id},
                                 {"username", u.username},
                                 {"created_at", format_iso8601(u.created_at)},
                                 {"permissions", std::move(ps)}});
    } else {
      fmt::print("{:>6}  {:<24} {:<24} {}\n", u.id, u.username, format_iso8601(u.created_at), fmt::join(*perms, ","));
    }
  }
  if (o.format == "json") fmt::print("{}\n", json::serialize(out));
  return k_exit_ok;
}

}  // namespace

void register_users(CLI::App& app, const globals& g, command_runner& run) {
  auto* users = app.add_subcommand("users", "The built-in user store (logins and permissions)");
  users->require_subcommand(1);
  auto o = std::make_shared<user_options>();

  auto* add_cmd = users->add_subcommand("add", "Add a user (password from APIGW_PASSWORD or --password-stdin)");
  add_cmd->add_option("username", o->username, "User name")->required();
  add_cmd->add_flag("--password-stdin", o->password_stdin, "Read the password from the first line of stdin");
  add_example(add_cmd, "APIGW_PASSWORD='s3cret' apigw-ws users add alice");
  add_cmd->callback([&g, &run, o] { run = [&g, o] { return add(g, *o); }; });

  auto* passwd_cmd = users->add_subcommand("passwd", "Change a user's password");
  passwd_cmd->add_option("username", o->username, "User name")->required();
  passwd_cmd->add_flag("--password-stdin", o->password_stdin, "Read the password from the first line of stdin");
  add_example(passwd_cmd, "printf '%s\\n' \"$NEW_PASSWORD\" | apigw-ws users passwd alice --password-stdin");
  passwd_cmd->callback([&g, &run, o] { run = [&g, o] { return passwd(g, *o); }; });

  auto* grant_cmd = users->add_subcommand("grant", "Give a user a permission");
  grant_cmd->add_option("username", o->username, "User name")->required();
  grant_cmd->add_option("permission", o->permission, "Permission, e.g. chat.announce")->required();
  add_example(grant_cmd, "apigw-ws users grant alice admin");
  grant_cmd->callback([&g, &run, o] { run = [&g, o] { return grant(g, *o, true); }; });

  auto* revoke_cmd = users->add_subcommand("revoke", "Take a permission away");
  revoke_cmd->add_option("username", o->username, "User name")->required();
  revoke_cmd->add_option("permission", o->permission, "Permission")->required();
  add_example(revoke_cmd, "apigw-ws users revoke alice admin");
  revoke_cmd->callback([&g, &run, o] { run = [&g, o] { return grant(g, *o, false); }; });

  auto* list_cmd = users->add_subcommand("list", "List users and their permissions");
  add_format_option(list_cmd, o->format);
  add_example(list_cmd, "apigw-ws users list --format json");
  list_cmd->callback([&g, &run, o] { run = [&g, o] { return list(g, *o); }; });
}

}  // namespace apigw::cli
