// The apigw-ws command grammar end to end (issue #12, item 5): the exit-code table of the README's
// CLI section row by row, one flag name per concept (old names still working), --format json on
// every command that prints data, --yes on destructive commands (and the question asked on a
// terminal), no database file left by a failing command, commands the tool prints that work when
// pasted into a shell, the send report's wording, and an example in every command's --help.
#include "cli_fixture.hpp"

#include "apigw/store/session_store.hpp"

#include "support/backdate.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json/parse.hpp>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace apigw {
namespace {

namespace fs = std::filesystem;
using testing::run_result;

const std::string k_message = R"({"type":"system","level":"warning","message":"Maintenance at 22:00"})";

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

// closed_endpoint: a loopback endpoint on a port that was just free: connections are refused.
std::string closed_endpoint() {
  std::uint16_t port = 0;
  {
    testing::connections_server gone;
    port = gone.port();
  }
  return "http://127.0.0.1:" + std::to_string(port) + "/dev";
}

// run_on_terminal: the binary with a pseudo-terminal as its standard input, on which `typed` is
// typed, as a person at a shell would run it. stdout goes to a file; stderr too, or with
// `stderr_on_terminal` to the terminal, and `err` is what the terminal showed.
run_result run_on_terminal(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                           const fs::path& dir, const std::string& typed, bool stderr_on_terminal = false) {
  run_result r;
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return r;
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  if (slave < 0) {
    ::close(master);
    return r;
  }
  // Typed ahead: the terminal holds the line until the program reads it.
  if (::write(master, typed.data(), typed.size()) != static_cast<ssize_t>(typed.size())) return r;
  std::vector<std::string> argv_s{APIGW_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  auto argv = testing::c_strings(argv_s);
  auto env_s = testing::environment_strings(env);
  auto envp = testing::c_strings(env_s);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, slave, 0);
  posix_spawn_file_actions_addopen(&fa, 1, (dir / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (stderr_on_terminal) {
    posix_spawn_file_actions_adddup2(&fa, slave, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, (dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc == 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  r.out = testing::read_file(dir / "stdout");
  if (stderr_on_terminal) {
    // The slave is still open here, so what the program wrote waits in the terminal to be read.
    ::fcntl(master, F_SETFL, O_NONBLOCK);
    char buf[4096];
    for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;) r.err.append(buf, static_cast<std::size_t>(n));
  } else {
    r.err = testing::read_file(dir / "stderr");
  }
  ::close(slave);
  ::close(master);
  return r;
}

// The table in the README's "The command-line tool" section, every row and every example in it.
TEST_F(cli_test, exit_codes_follow_the_table) {
  // 0: it did what was asked; --help and --version; a send that matched nobody (it warns).
  EXPECT_EQ(run({"sessions", "count"}).exit_code, 0);
  EXPECT_EQ(run({"--help"}).exit_code, 0);
  EXPECT_EQ(run({"send", "--help"}).exit_code, 0);
  EXPECT_EQ(run({"--version"}).exit_code, 0);
  EXPECT_EQ(run({"send", "--channel", "nobody-here", "--json", k_message}).exit_code, 0);

  // 1: the operation failed.
  add_session("AAAAAAAAAAAAAA1=", "general", closed_endpoint());
  EXPECT_EQ(run({"send", "--all", "--json", k_message, "--retries", "0"}).exit_code, 1);  // a delivery failed
  EXPECT_EQ(run({"users", "grant", "nobody", "admin"}).exit_code, 1);                     // no such user
  EXPECT_EQ(run({"api", "show", "--name", "no-such-api"}).exit_code, 1);                  // no such API
  EXPECT_EQ(run({"sessions", "kick", "--connection", "AAAAAAAAAAAAAA1=", "--yes", "--profile", "nosuch"}).exit_code,
            1);  // no usable AWS credentials
  const auto db = db_;
  db_ = (dir_ / "missing.sqlite3").string();
  EXPECT_EQ(run({"sessions", "list"}).exit_code, 1);  // the database is missing
  db_ = db;
  auto r = run_on_terminal({"--db", db_, "sessions", "clear"}, env_, dir_, "n\n");  // not answered yes
  EXPECT_EQ(r.exit_code, 1) << r.err;

  // 2: the command line is wrong.
  EXPECT_EQ(run({}).exit_code, 2);                               // no command
  EXPECT_EQ(run({"sessions", "frobnicate"}).exit_code, 2);       // unknown command
  EXPECT_EQ(run({"sessions", "list", "--bogus"}).exit_code, 2);  // unknown option
  r = run({"api", "show"});                                      // a required option missing
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--name"), std::string::npos) << r.err;
  EXPECT_EQ(run({"api", "delete", "--yes"}).exit_code, 2);
  EXPECT_EQ(run({"sessions", "kick", "--yes"}).exit_code, 2);
  EXPECT_EQ(run({"send", "--json", k_message}).exit_code, 2);                                 // no target
  EXPECT_EQ(run({"send", "--all", "--json", k_message, "--concurrency", "0"}).exit_code, 2);  // invalid value
  EXPECT_EQ(run({"sessions", "clear", "--older-than", "soon", "--yes"}).exit_code, 2);
  EXPECT_EQ(run({"sessions", "list", "--connected", "--disconnected"}).exit_code, 2);  // options that exclude
  r = run({"sessions", "clear"});  // destructive, no --yes, and no terminal to ask on
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("pass --yes"), std::string::npos) << r.err;
  EXPECT_EQ(count({}), "1\n");
}

TEST_F(cli_test, retries_is_the_one_name_and_attempts_still_works) {
  add_session("AAAAAAAAAAAAAA1=", "general", closed_endpoint());
  auto attempts_made = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"send", "--all", "--json", k_message, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    return boost::json::parse(r.out).at("failed").at(0).at("attempts").as_int64();
  };
  EXPECT_EQ(attempts_made({"--retries", "1"}), 2);
  EXPECT_EQ(attempts_made({"--attempts", "3"}), 3);  // the old name: attempts, not retries
  EXPECT_EQ(run({"send", "--all", "--json", k_message, "--retries", "1", "--attempts", "2"}).exit_code, 2);
  auto help = run({"send", "--help"});
  EXPECT_NE(help.out.find("--retries"), std::string::npos) << help.out;
  EXPECT_EQ(help.out.find("--attempts"), std::string::npos) << help.out;
  // The control-plane commands take the same name, and the old one too.
  for (const char* cmd : {"apply", "show", "delete"}) {
    help = run({"api", cmd, "--help"});
    EXPECT_NE(help.out.find("--retries"), std::string::npos) << cmd;
  }
  EXPECT_EQ(run({"api", "show", "--name", "x", "--attempts", "2"}).exit_code, 1);  // parsed; no API named x
}

TEST_F(cli_test, user_takes_an_id_or_a_name_everywhere) {
  env_["APIGW_PASSWORD"] = "correct horse";
  ASSERT_EQ(run({"users", "add", "alice"}).exit_code, 0);
  auto users = run({"users", "list", "--format", "json"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  const auto id = std::to_string(boost::json::parse(users.out).at(0).at("id").as_int64());
  auto r = run({"sessions", "add", "--connection", "AAAAAAAAAAAAAA1=", "--user", "alice", "--gateway", "local",
                "--endpoint", server_.endpoint("/dev")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run({"sessions", "add", "--connection", "AAAAAAAAAAAAAA2=", "--user", id, "--gateway", "local"}).exit_code,
            0);
  EXPECT_EQ(count({"--user", "alice"}), "2\n");
  EXPECT_EQ(count({"--user", id}), "2\n");
  r = run({"sessions", "add", "--connection", "AAAAAAAAAAAAAA3=", "--user", "nobody"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no user named 'nobody'"), std::string::npos) << r.err;
  testing::backdate_sessions(db_, std::chrono::minutes(1));
  r = run({"send", "--user", "alice", "--json", k_message});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server_.request_count(), 2U);
}

TEST_F(cli_test, kick_takes_connection_like_send_region_profile_and_asks_first) {
  for (const char* id : {"AAAAAAAAAAAAAA1=", "AAAAAAAAAAAAAA2=", "AAAAAAAAAAAAAA3=", "AAAAAAAAAAAAAA4="}) {
    add_session(id, "general", server_.endpoint("/dev"));
  }
  auto r = run({"sessions", "kick", "--connection", "AAAAAAAAAAAAAA1="});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("pass --yes"), std::string::npos) << r.err;
  EXPECT_EQ(server_.request_count(), 0U);

  r = run({"sessions", "kick", "--connection", "AAAAAAAAAAAAAA1=", "--connection", "AAAAAAAAAAAAAA2=", "--yes",
           "--region", "eu-west-1", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = boost::json::parse(r.out);
  EXPECT_EQ(out.at("kicked").as_array().size(), 2U) << r.out;
  EXPECT_EQ(server_.request_count(), 2U);
  EXPECT_EQ(count({"--connected"}), "2\n");

  // The positional ids of before still work.
  r = run({"sessions", "kick", "AAAAAAAAAAAAAA3=", "--yes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kicked AAAAAAAAAAAAAA3="), std::string::npos) << r.out;

  // --profile naming a profile that has no credentials fails before any request.
  r = run({"sessions", "kick", "--connection", "AAAAAAAAAAAAAA4=", "--yes", "--profile", "nosuch"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no usable AWS credentials"), std::string::npos) << r.err;
  EXPECT_EQ(server_.request_count(), 3U);

  r = run({"sessions", "reconcile", "--check", "--region", "eu-west-1", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(boost::json::parse(r.out).at("marked_old").as_int64(), 0);
}

// A reason every connection shares (here: no credentials for an AWS endpoint, found before any
// request) is printed once with the count, not once per connection.
TEST_F(cli_test, kick_prints_a_shared_failure_once_with_the_count) {
  const std::string aws = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod";  // never reached
  std::vector<std::string> args{"sessions", "kick", "--yes"};
  for (int i = 1; i <= 7; ++i) {
    const auto id = fmt::format("AAAAAAAAAAAAA{:02}=", i);
    add_session(id, "general", aws);
    args.insert(args.end(), {"--connection", id});
  }
  const auto r = run(args);
  EXPECT_EQ(r.exit_code, 1);
  std::size_t times = 0;
  for (auto at = r.err.find("looked in:"); at != std::string::npos; at = r.err.find("looked in:", at + 1)) ++times;
  EXPECT_EQ(times, 1U) << r.err;
  EXPECT_NE(r.err.find("7 connections failed (AAAAAAAAAAAAA01=, AAAAAAAAAAAAA02=, AAAAAAAAAAAAA03=, "
                       "AAAAAAAAAAAAA04=, AAAAAAAAAAAAA05=, ... and 2 more): no AWS credentials"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(count({"--connected"}), "7\n");
}

TEST_F(cli_test, every_data_command_prints_json_with_format_json) {
  env_["APIGW_PASSWORD"] = "correct horse";
  ASSERT_EQ(run({"users", "add", "alice"}).exit_code, 0);
  ASSERT_EQ(run({"users", "grant", "alice", "admin"}).exit_code, 0);
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));

  auto json_of = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--format", "json"});
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return boost::json::parse(r.out);
  };
  auto sessions = json_of({"sessions", "list"});
  ASSERT_EQ(sessions.as_array().size(), 1U);
  EXPECT_EQ(sessions.at(0).at("connection_id").as_string(), "AAAAAAAAAAAAAA1=");
  EXPECT_EQ(sessions.at(0).at("channels").at(0).as_string(), "general");
  EXPECT_TRUE(sessions.at(0).at("connected").as_bool());
  EXPECT_EQ(json_of({"sessions", "count"}).at("count").as_int64(), 1);
  auto users = json_of({"users", "list"});
  EXPECT_EQ(users.at(0).at("username").as_string(), "alice");
  EXPECT_EQ(users.at(0).at("permissions").at(0).as_string(), "admin");
  auto api = json_of({"api", "show", "--name", "local"});
  EXPECT_EQ(api.at("endpoint").as_string(), server_.endpoint("/dev"));
  EXPECT_TRUE(api.at("routes").as_array().empty());
  EXPECT_EQ(json_of({"tokens", "cleanup"}).at("deleted").as_int64(), 0);
  EXPECT_EQ(json_of({"sessions", "clear", "--yes"}).at("deleted").as_int64(), 0);
  EXPECT_EQ(json_of({"sessions", "reconcile"}).at("marked_old").as_int64(), 0);
  auto migrated = json_of({"migrate"});
  EXPECT_EQ(migrated.at("from_version"), migrated.at("to_version"));
  EXPECT_EQ(run({"sessions", "list", "--format", "yaml"}).exit_code, 2);
}

TEST_F(cli_test, history_shows_and_prunes_a_channels_stored_messages) {
  ASSERT_EQ(run({"migrate"}).exit_code, 0);
  {
    auto st = store::open_store(db_, system_clock_source::instance());
    ASSERT_TRUE(st);
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE((*st)->append_history("task-a", fmt::format(R"({{"type":"note","n":{}}})", i), {10, {}}));
    }
  }
  auto r = run({"history", "show", "task-a", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto shown = boost::json::parse(r.out);
  EXPECT_EQ(shown.at("offset").as_int64(), 3);
  EXPECT_EQ(shown.at("epoch").as_string().size(), 16U);
  ASSERT_EQ(shown.at("messages").as_array().size(), 3U);
  EXPECT_EQ(shown.at("messages").at(2).at("message").at("n").as_int64(), 3);
  r = run({"history", "show", "task-a"});
  EXPECT_NE(r.out.find("channel task-a epoch"), std::string::npos) << r.out;

  r = run({"history", "prune", "task-*", "--max-messages", "1", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(boost::json::parse(r.out).at("deleted").as_int64(), 2);
  r = run({"history", "show", "task-a", "--format", "json"});
  EXPECT_EQ(boost::json::parse(r.out).at("messages").as_array().size(), 1U);

  r = run({"history", "show", "nothing"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("has no history"), std::string::npos) << r.err;
  EXPECT_EQ(run({"history", "prune", "--max-messages", "0"}).exit_code, 2);
  EXPECT_EQ(run({"history", "prune", "--max-age", "soon"}).exit_code, 2);
}

TEST_F(cli_test, destructive_commands_ask_on_a_terminal_and_refuse_without_one) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA2=", "general", server_.endpoint("/dev"));
  testing::backdate_sessions(db_, std::chrono::minutes(1));
  server_.script("AAAAAAAAAAAAAA1=", {{.status = 410}});
  ASSERT_EQ(run({"send", "--all", "--json", k_message}).exit_code, 0);
  ASSERT_EQ(count({"--disconnected"}), "1\n");

  auto r = run({"sessions", "clear"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("delete every disconnected session"), std::string::npos) << r.err;
  r = run_on_terminal({"--db", db_, "sessions", "clear"}, env_, dir_, "no\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("[y/N]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing done"), std::string::npos) << r.err;
  EXPECT_EQ(count({}), "2\n");
  r = run_on_terminal({"--db", db_, "sessions", "clear"}, env_, dir_, "y\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("deleted 1 disconnected session(s)"), std::string::npos) << r.out;
  EXPECT_EQ(count({}), "1\n");

  r = run({"api", "delete", "--name", "local"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("pass --yes"), std::string::npos) << r.err;
  EXPECT_EQ(run({"api", "show", "--name", "local"}).exit_code, 0);  // still there
}

TEST_F(cli_test, a_failing_command_creates_no_database_file) {
  db_ = (dir_ / "never.sqlite3").string();
  env_["APIGW_PASSWORD"] = "correct horse";
  const std::vector<std::vector<std::string>> commands{{"sessions", "list"},
                                                       {"sessions", "count"},
                                                       {"sessions", "clear", "--yes"},
                                                       {"sessions", "reconcile"},
                                                       {"send", "--all", "--json", k_message},
                                                       {"users", "list"},
                                                       {"users", "add", "alice"},
                                                       {"tokens", "cleanup"},
                                                       {"api", "show", "--name", "chat"}};
  for (const auto& args : commands) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(db_)) << args[0] << " " << args[1] << " created " << db_;
  }
  db_ = "sqlite:" + (dir_ / "never-either.sqlite3").string();
  EXPECT_EQ(run({"sessions", "list"}).exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "never-either.sqlite3"));
  EXPECT_EQ(run({"migrate"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(dir_ / "never-either.sqlite3"));
}

// A command the tool prints ("run ... migrate first") works when pasted into a shell: the bare name
// when `apigw-ws` on PATH is this binary, its path otherwise.
TEST_F(cli_test, printed_commands_work_when_pasted) {
  db_ = (dir_ / "fresh db.sqlite3").string();  // a space: the path must be quoted
  auto r = run({"sessions", "list"});
  ASSERT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string("`") + APIGW_CLI_PATH + " --db '" + db_ + "' migrate`"), std::string::npos) << r.err;
  const std::regex printed("`([^`]+)`");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, printed)) << r.err;
  auto pasted = testing::run_process({"/bin/sh", "-c", m[1].str()}, env_, dir_);
  EXPECT_EQ(pasted.exit_code, 0) << m[1].str() << ": " << pasted.err;
  EXPECT_EQ(run({"sessions", "list"}).exit_code, 0);

  fs::remove(db_);
  env_["PATH"] = fs::path(APIGW_CLI_PATH).parent_path().string() + ":/usr/bin:/bin";
  r = run({"sessions", "list"});
  ASSERT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("`apigw-ws --db '" + db_ + "' migrate`"), std::string::npos) << r.err;
  ASSERT_TRUE(std::regex_search(r.err, m, printed)) << r.err;
  pasted = testing::run_process({"/bin/sh", "-c", m[1].str()}, env_, dir_);
  EXPECT_EQ(pasted.exit_code, 0) << m[1].str() << ": " << pasted.err;
}

TEST_F(cli_test, send_prints_an_error_shared_by_all_recipients_once_with_the_count) {
  const std::string aws = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod";
  for (const char* id : {"AAAAAAAAAAAAAA1=", "AAAAAAAAAAAAAA2=", "AAAAAAAAAAAAAA3="}) add_session(id, "general", aws);
  auto r = run({"send", "--all", "--json", k_message});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("failed: 3 recipients via " + aws + " before any request: "), std::string::npos) << r.out;
  EXPECT_EQ(occurrences(r.out, "no AWS credentials found"), 1U) << r.out;
  for (const char* id : {"AAAAAAAAAAAAAA1=", "AAAAAAAAAAAAAA2=", "AAAAAAAAAAAAAA3="}) {
    EXPECT_EQ(occurrences(r.out, id), 1U) << r.out;  // the ids are listed under the one line
  }
}

TEST_F(cli_test, send_progress_counts_deliveries_and_shows_with_progress_off_a_terminal) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA2=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA3=", "general", server_.endpoint("/dev"));
  testing::backdate_sessions(db_, std::chrono::minutes(1));
  server_.script("AAAAAAAAAAAAAA2=", {{.status = 410}});
  server_.script("AAAAAAAAAAAAAA3=", {{.delay = std::chrono::milliseconds(300)}});
  auto r = run({"send", "--channel", "general", "--json", k_message, "--progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("progress: 3/3 delivered 2 gone 1 failed 0"), std::string::npos) << r.err;
  // The slow one is counted when it is delivered, not when it was handed out: a line before it.
  EXPECT_NE(r.err.find("progress: 2/3 delivered 1 gone 1 failed 0"), std::string::npos) << r.err;
  r = run({"send", "--channel", "general", "--json", k_message});
  EXPECT_EQ(r.err.find("progress:"), std::string::npos) << r.err;  // not a terminal, no --progress
  EXPECT_EQ(run({"send", "--all", "--json", k_message, "--progress", "--no-progress"}).exit_code, 2);
}

// On a terminal the bar redraws one line and counts deliveries; a small send shows none unless
// --progress asks for it.
TEST_F(cli_test, send_progress_bar_on_a_terminal) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA2=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA3=", "general", server_.endpoint("/dev"));
  testing::backdate_sessions(db_, std::chrono::minutes(1));
  server_.script("AAAAAAAAAAAAAA2=", {{.status = 410}});
  auto r = run_on_terminal({"--db", db_, "send", "--channel", "general", "--json", k_message, "--progress"}, env_, dir_,
                           "", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("\r[########################################] 3/3 delivered 2 gone 1 failed 0"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("progress:"), std::string::npos) << r.err;  // the line form is for files and pipes
  EXPECT_NE(r.out.find("delivered  2"), std::string::npos) << r.out;
  r = run_on_terminal({"--db", db_, "send", "--channel", "general", "--json", k_message}, env_, dir_, "", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("delivered"), std::string::npos) << r.err;  // under 1000 recipients: no bar
}

TEST_F(cli_test, a_send_matching_nobody_warns_and_says_what_it_matched_against) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  auto r = run({"send", "--channel", "genral", "--json", k_message});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sent to 0 session(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: no session matched (connected, channel 'genral') in " + db_), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("check the spelling"), std::string::npos) << r.err;
  EXPECT_EQ(server_.request_count(), 0U);
  r = run({"send", "--channel", "general", "--json", k_message});
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

// Every command, found by walking the "Subcommands:" lists of the help from the top, has an
// example in its --help.
TEST_F(cli_test, every_command_help_has_an_example) {
  std::vector<std::vector<std::string>> todo{{}};
  std::size_t checked = 0;
  const std::regex subcommand(R"(^  (\S+))");
  while (!todo.empty()) {
    const auto path = todo.back();
    todo.pop_back();
    auto args = path;
    args.push_back("--help");
    auto r = run(args);
    std::string name = "apigw-ws";
    for (const auto& p : path) name += " " + p;
    EXPECT_EQ(r.exit_code, 0) << name;
    const auto example = r.out.find("Example:\n  ");
    ASSERT_NE(example, std::string::npos) << name << " --help:\n" << r.out;
    EXPECT_NE(r.out.find(name, example), std::string::npos) << name << " --help:\n" << r.out;
    ++checked;
    const auto at = r.out.find("Subcommands:\n");
    if (at == std::string::npos) continue;
    std::istringstream lines(r.out.substr(at + 13));
    std::string line;
    while (std::getline(lines, line) && !line.empty()) {
      std::smatch m;
      if (!std::regex_search(line, m, subcommand)) continue;
      auto sub = path;
      sub.push_back(m[1].str());
      todo.push_back(std::move(sub));
    }
  }
  EXPECT_GE(checked, 27U);  // the tool, 5 groups, 21 commands
}

}  // namespace
}  // namespace apigw
