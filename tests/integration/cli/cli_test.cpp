// End-to-end tests of the apigw-ws CLI: the real binary in a child process, a real SQLite file, and
// the fake @connections server on loopback recording what arrives (cli_fixture.hpp). The command
// grammar (exit codes, flags, --format, --yes, help examples) is tested in grammar_test.cpp.
#include "cli_fixture.hpp"

#include "apigw/core/clock.hpp"
#include "apigw/core/json.hpp"
#include "apigw/sigv4/verifier.hpp"
#include "support/backdate.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace apigw {
namespace {

namespace fs = std::filesystem;

const std::string k_message = R"({"type":"system","level":"warning","message":"Maintenance at 22:00 \u00e9"})";

TEST_F(cli_test, send_to_a_channel_delivers_marks_gone_and_reports) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA2=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA3=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA4=", "other", server_.endpoint("/dev"));
  testing::backdate_sessions(db_, std::chrono::minutes(1));  // established, past the connect window
  server_.script("AAAAAAAAAAAAAA2=", {{.status = 410}});

  auto r = run({"send", "--channel", "general", "--json", k_message});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("sent to 3 session(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("delivered  2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gone       1 (1 marked disconnected)"), std::string::npos) << r.out;

  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 3U);
  const std::string wire = serialize_message(boost::json::parse(k_message)).value();
  for (const auto& q : reqs) {
    EXPECT_EQ(q.method, "POST");
    EXPECT_EQ(q.base_path, "/dev");
    EXPECT_EQ(q.target, "/dev/@connections/" + q.connection_id.substr(0, 15) + "%3D");
    EXPECT_EQ(q.body, wire);
    EXPECT_NE(q.connection_id, "AAAAAAAAAAAAAA4=");
  }
  EXPECT_EQ(count({"--channel", "general", "--connected"}), "2\n");
  EXPECT_EQ(count({"--disconnected"}), "1\n");

  // A second send reaches only the sessions still connected.
  r = run({"send", "--channel", "general", "--json", k_message, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto report = boost::json::parse(r.out).as_object();
  EXPECT_EQ(report["delivered"].as_int64(), 2);
  EXPECT_TRUE(report["gone"].as_array().empty());
  EXPECT_EQ(server_.request_count(), 5U);
}

TEST_F(cli_test, oversize_message_is_refused_before_any_request) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  const auto file = dir_ / "big.json";
  std::ofstream(file) << R"({"type":"x","m":")" << std::string(131072, 'a') << R"("})";
  auto r = run({"send", "--all", "--file", file.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the limit is 131072 bytes"), std::string::npos) << r.err;
  EXPECT_EQ(server_.request_count(), 0U);
  EXPECT_EQ(count({"--connected"}), "1\n");
}

TEST_F(cli_test, unreachable_endpoint_fails_each_recipient_and_marks_nothing) {
  // A port that was just free: connections are refused.
  std::uint16_t closed_port = 0;
  {
    testing::connections_server gone_server;
    closed_port = gone_server.port();
  }
  const std::string ep = "http://127.0.0.1:" + std::to_string(closed_port) + "/dev";
  add_session("AAAAAAAAAAAAAA1=", "general", ep);
  add_session("AAAAAAAAAAAAAA2=", "general", ep);
  auto r = run({"send", "--channel", "general", "--json", k_message, "--attempts", "2", "--format", "json"});
  EXPECT_EQ(r.exit_code, 1);
  auto report = boost::json::parse(r.out).as_object();
  EXPECT_EQ(report["delivered"].as_int64(), 0);
  const auto& failed = report["failed"].as_array();
  ASSERT_EQ(failed.size(), 2U);
  for (const auto& f : failed) {
    EXPECT_NE(std::string(f.at("reason").as_string()).find("cannot connect"), std::string::npos) << f;
    EXPECT_EQ(f.at("attempts").as_int64(), 2);
  }
  EXPECT_EQ(count({"--connected"}), "2\n");
}

TEST_F(cli_test, requests_are_signed_with_credentials_from_the_environment) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/prod"));
  env_["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
  env_["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  env_["AWS_REGION"] = "eu-west-1";
  auto r = run({"send", "--connection", "AAAAAAAAAAAAAA1=", "--json", k_message});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1U);
  const auto& q = reqs[0];
  auto auth = net::find_header(q.headers, "Authorization");
  ASSERT_TRUE(auth);
  EXPECT_TRUE(auth->starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")) << *auth;
  EXPECT_NE(auth->find("/eu-west-1/execute-api/aws4_request"), std::string::npos) << *auth;

  // The signature verifies as AWS would check it, and not with another secret.
  sigv4::request sr{.method = q.method, .path = q.target, .query = "", .headers = {}, .body = q.body};
  for (const auto& h : q.headers) sr.headers.push_back({h.name, h.value});
  sigv4::verify_params vp;
  vp.region = "eu-west-1";
  vp.now = system_clock_source::instance().now();
  auto ok =
      sigv4::verify(sr, sigv4::static_keys({{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}}), vp);
  EXPECT_TRUE(ok) << ok.error().message;
  auto bad = sigv4::verify(sr, sigv4::static_keys({{"AKIDEXAMPLE", "another-secret", ""}}), vp);
  EXPECT_FALSE(bad);
}

TEST_F(cli_test, unreadable_credentials_file_is_a_clear_error_and_sends_nothing) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  const auto creds = dir_ / "credentials-is-a-directory";
  fs::create_directories(creds);
  env_["AWS_SHARED_CREDENTIALS_FILE"] = creds.string();
  auto r = run({"send", "--all", "--json", k_message});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(creds.string()), std::string::npos) << r.err;
  EXPECT_EQ(server_.request_count(), 0U);
}

TEST_F(cli_test, aws_endpoint_without_credentials_fails_per_recipient_naming_where_it_looked) {
  add_session("AAAAAAAAAAAAAA1=", "general", "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod");
  auto r = run({"send", "--all", "--json", k_message});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("no AWS credentials found"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("environment"), std::string::npos) << r.out;
  EXPECT_EQ(count({"--connected"}), "1\n");
}

TEST_F(cli_test, bad_input_gets_clear_errors) {
  auto r = run({"send", "--all", "--json", "{not json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;

  r = run({"send", "--all"});  // no message: usage error
  EXPECT_EQ(r.exit_code, 2);

  r = run({"send", "--json", "{}"});  // no target: usage error
  EXPECT_EQ(r.exit_code, 2);

  r = run({"sessions", "add", "--connection", "bad id\r\n"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid connection id"), std::string::npos) << r.err;

  r = run({"send", "--user", "nobody", "--json", "{}"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no user named 'nobody'"), std::string::npos) << r.err;

  r = run({"sessions", "clear", "--older-than", "7 weeks", "--yes"});  // a bad option value: usage
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("invalid duration"), std::string::npos) << r.err;

  db_ = "mysql://root@127.0.0.1/x";
  r = run({"sessions", "count"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unsupported database URL scheme 'mysql'"), std::string::npos) << r.err;
}

// The version comes from project(VERSION) in the top CMakeLists.txt, the one place it is written.
TEST_F(cli_test, version_flag_prints_the_project_version) {
  auto r = testing::run_process({APIGW_CLI_PATH, "--version"}, env_, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "apigw-ws " APIGW_PROJECT_VERSION "\n");
}

// The command it prints works when pasted: the binary is not on PATH here, so it is named by path.
TEST_F(cli_test, unmigrated_database_says_to_migrate) {
  db_ = (dir_ / "fresh.sqlite3").string();
  auto r = run({"sessions", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string("`") + APIGW_CLI_PATH + " --db " + db_ + " migrate`"), std::string::npos) << r.err;
}

// API Gateway answers 410 while a connection's $connect is still running: a session created
// moments ago is reported gone but not marked disconnected.
TEST_F(cli_test, send_does_not_mark_a_session_inside_its_connect_window) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  server_.script("AAAAAAAAAAAAAA1=", {{.status = 410}});
  auto r = run({"send", "--channel", "general", "--json", k_message});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("gone       1 (0 marked disconnected)"), std::string::npos) << r.out;
  // The report says why: the connect window.
  EXPECT_NE(r.out.find("1 not marked: created less than 29 s before the send, inside the connect window"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(count({"--connected"}), "1\n");
}

TEST_F(cli_test, sessions_clear_deletes_only_disconnected) {
  add_session("AAAAAAAAAAAAAA1=", "general", server_.endpoint("/dev"));
  add_session("AAAAAAAAAAAAAA2=", "general", server_.endpoint("/dev"));
  testing::backdate_sessions(db_, std::chrono::minutes(1));
  server_.script("AAAAAAAAAAAAAA1=", {{.status = 410}});
  ASSERT_EQ(run({"send", "--all", "--json", k_message}).exit_code, 0);
  auto r = run({"sessions", "clear", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("deleted 1 disconnected session(s)"), std::string::npos) << r.out;
  EXPECT_EQ(count({}), "1\n");
  r = run({"sessions", "list"});
  EXPECT_NE(r.out.find("AAAAAAAAAAAAAA2="), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("AAAAAAAAAAAAAA1="), std::string::npos) << r.out;
  r = run({"tokens", "cleanup"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace apigw
