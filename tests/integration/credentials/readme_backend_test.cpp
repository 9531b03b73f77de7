// The README's chat backend, run exactly as the README shows it (tests/readme/view.cpp, built as the
// readme_chat_backend program), sends through `apigw-ws gateway --auth sigv4` with AWS credentials
// from each provider of the chain: for every case a real client logs in, opens a socket through the
// gateway and says something; the backend sends the chat message to the room through @connections,
// signed with that provider's credentials; the gateway verifies the signature and the session
// token against the keys it was told to accept and answers 2xx (its /metrics count it); and the
// client receives the message. A control case signs with a secret the gateway does not know and
// gets 403, and nothing reaches the client.
//
// The credential endpoints (STS, the ECS container endpoint, IMDS, the SSO portal) are the loopback
// fake of the provider tests (support/fake_aws.hpp), named through the documented variables
// (AWS_ENDPOINT_URL_STS, AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_EC2_METADATA_SERVICE_ENDPOINT,
// AWS_ENDPOINT_URL_SSO); HOME, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point into the
// test's directory. The backend's environment is only what each case sets, so nothing reaches
// 169.254.169.254 or AWS.
//
// Not covered here: explicit keys (chain_options::explicit_credentials), which the README's backend
// never passes (tested in unit_credentials_provider), and AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
// which always means http://169.254.170.2 and so cannot be pointed at a loopback fake.
#include "apigw/core/clock.hpp"
#include "apigw/core/json.hpp"
#include "apigw/dispatch/auth.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/store/session_store.hpp"
#include "support/child_process.hpp"
#include "support/fake_aws.hpp"
#include "support/io_runner.hpp"
#include "support/temp_dir.hpp"
#include "support/ws_client.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace apigw {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view k_api_id = "readmeapi1";
constexpr std::string_view k_region = "eu-west-1";
// The README's backend: its origin allow-list and the header value its integrations must send.
constexpr std::string_view k_origin = "https://chat.example.com";
constexpr std::string_view k_shared_secret = "value injected by the integration's request parameters";

// Keys that no fake issues: the environment, the credentials file, the credential_process.
constexpr std::string_view k_env_id = "ASIAENVIRONMENT00001";
constexpr std::string_view k_file_id = "AKIASHAREDFILE000001";
constexpr std::string_view k_process_id = "ASIAPROCESS000000001";

std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// a_case: one provider: the backend's variables and the files it reads (written before it starts).
struct a_case {
  std::string name;
  std::function<void(std::map<std::string, std::string>& env, const fs::path& home, testing::fake_aws& aws)> setup;
  bool accepted = true;  // false: the gateway must refuse the signature
  // fake_path: where in the fake this provider must have fetched its credentials ("": no request).
  std::string fake_path;
};

void PrintTo(const a_case& c, std::ostream* os) {
  *os << c.name;
}

class readme_backend : public ::testing::TestWithParam<a_case> {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "web");  // the README's static_root, relative to the working directory
    backend_port_ = free_port();
  }
  void TearDown() override {
    backend_.reset();
    gateway_.reset();
  }

  // keys: every key a provider of this test hands out, as the gateway's config lists them.
  std::string keys_json() const {
    const auto temporary = [](const std::string& id) {
      return fmt::format(R"({{"accessKeyId":"{0}","secretAccessKey":"secret-{0}","sessionToken":"token-{0}"}})", id);
    };
    std::vector<std::string> keys{temporary(std::string(k_env_id)),
                                  fmt::format(R"({{"accessKeyId":"{0}","secretAccessKey":"secret-{0}"}})", k_file_id),
                                  temporary(std::string(k_process_id))};
    for (std::string_view source : {"APP-ROLE", "IRSA", "ECS", "IMDS", "Developer"}) {
      keys.push_back(temporary(aws_.key_for(source)));
    }
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : ",") + k;
    return "[" + out + "]";
  }

  // start_gateway: `apigw-ws gateway --auth sigv4` with one API whose integrations call the
  // backend as the README's comment says, the shared secret injected as a static header value.
  void start_gateway() {
    std::string integrations;
    std::string routes;
    for (std::string_view route : {"connect", "disconnect", "default"}) {
      integrations +=
          fmt::format(R"({}{{"integrationId":"{}","integrationUri":"http://127.0.0.1:{}/ws/{}","requestParameters":{{)"
                      R"("integration.request.header.connectionId":"context.connectionId",)"
                      R"("integration.request.header.X-Apigw-Secret":"'{}'"}}}})",
                      integrations.empty() ? "" : ",", route, backend_port_, route, k_shared_secret);
      routes +=
          fmt::format(R"({}{{"routeKey":"${}","target":"integrations/{}"}})", routes.empty() ? "" : ",", route, route);
    }
    write(dir_ / "gateway.json",
          fmt::format(R"({{"region":"{}","keys":{},"apis":[{{"apiId":"{}",)"
                      R"("routeSelectionExpression":"$request.body.action","stages":[{{"stageName":"dev"}}],)"
                      R"("integrations":[{}],"routes":[{}]}}]}})",
                      k_region, keys_json(), k_api_id, integrations, routes));
    gateway_ = std::make_unique<testing::background_process>(
        std::vector<std::string>{APIGW_CLI_PATH, "gateway", "--port", "0", "--config", (dir_ / "gateway.json").string(),
                                 "--auth", "sigv4"},
        std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}, {"HOME", dir_.string()}}, dir_, "gateway");
    const std::regex listening(R"(listening on ws://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 1000 && gateway_->running(); ++i) {
      std::smatch m;
      const auto out = gateway_->out();
      if (std::regex_search(out, m, listening)) {
        gateway_port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "the gateway did not start: " << gateway_->out() << gateway_->err();
  }

  // prepare_store: the README backend's database (chat.sqlite3 in its working directory), with
  // the gateway registered and a user, as `apigw-ws gateways`/`users add` would leave them.
  void prepare_store() {
    auto db = store::open_store((dir_ / "chat.sqlite3").string(), system_clock_source::instance());
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE((*db)->migrate());
    store::gateway row;
    row.name = "local";
    row.api_id = std::string(k_api_id);
    row.endpoint = fmt::format("http://127.0.0.1:{}/dev", gateway_port_);
    row.region = std::string(k_region);
    row.stage = "dev";
    ASSERT_TRUE((*db)->upsert_gateway(row));
    dispatch::builtin_authenticator auth(**db, system_clock_source::instance(), "readme-test-secret",
                                         dispatch::builtin_auth_options{.fast_hashing = true});
    ASSERT_TRUE(auth.add_user("alice", "alice-password"));
  }

  void start_backend(std::map<std::string, std::string> env) {
    env["PATH"] = "/usr/bin:/bin";
    env["PORT"] = std::to_string(backend_port_);
    env["HOST"] = "127.0.0.1";  // tests listen on loopback only
    env["APIGW_SECRET"] = "readme-test-secret";
    for (const char* pass : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
      if (const char* v = std::getenv(pass)) env[pass] = v;
    }
    backend_ = std::make_unique<testing::background_process>(std::vector<std::string>{APIGW_README_BACKEND_PATH}, env,
                                                             dir_, "backend");
    for (int i = 0; i < 1000 && backend_->running(); ++i) {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), backend_port_}, ec);
      if (!ec) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "the README backend did not start (exit " << backend_->exit_code() << "): " << backend_->err();
  }

  // post: one request to the backend.
  result<net::http_response> post(testing::io_runner& io, net::http_client_pool& pool, std::string target,
                                  net::http_headers headers, std::string body) {
    net::http_request r;
    r.method = "POST";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", backend_port_};
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.headers.push_back({"Origin", std::string(k_origin)});
    r.body = std::move(body);
    return io.run(pool.request(std::move(r)));
  }

  // management_calls: the gateway's count of @connections POSTs answered with `status`.
  std::int64_t management_calls(testing::io_runner& io, net::http_client_pool& pool, unsigned status) {
    net::http_request r;
    r.method = "GET";
    r.origin = net::origin{net::scheme::http, "127.0.0.1", gateway_port_};
    r.target = "/metrics";
    auto resp = io.run(pool.request(std::move(r)));
    if (!resp || resp->status != 200) return -1;
    const std::regex line(
        fmt::format(R"(apigw_gateway_management_calls_total\{{method="POST",status="{}"\}} (\d+))", status));
    std::smatch m;
    if (!std::regex_search(resp->body, m, line)) return 0;
    return std::stoll(m[1]);
  }

  testing::fake_aws aws_{system_clock_source::instance()};
  apigw::testing::temp_dir tmp_{"apigw_readme_creds_"};
  const fs::path dir_ = tmp_.path();
  std::uint16_t backend_port_ = 0;
  std::uint16_t gateway_port_ = 0;
  std::unique_ptr<testing::background_process> gateway_;
  std::unique_ptr<testing::background_process> backend_;
};

TEST_P(readme_backend, a_chat_message_reaches_the_client_through_the_signing_gateway) {
  const a_case& c = GetParam();
  ASSERT_NO_FATAL_FAILURE(start_gateway());
  ASSERT_NO_FATAL_FAILURE(prepare_store());
  const fs::path home = dir_ / "home";
  fs::create_directories(home / ".aws");
  std::map<std::string, std::string> env{
      {"HOME", home.string()},
      {"AWS_CONFIG_FILE", (home / ".aws" / "config").string()},
      {"AWS_SHARED_CREDENTIALS_FILE", (home / ".aws" / "credentials").string()},
      {"AWS_EC2_METADATA_DISABLED", "true"},
      {"AWS_DEFAULT_REGION", std::string(k_region)},
  };
  c.setup(env, home, aws_);
  ASSERT_NO_FATAL_FAILURE(start_backend(env));

  // A browser's path: log in, fetch a one-time token, open the socket through the gateway.
  testing::io_runner io;
  net::http_client_pool pool(io.executor());
  auto login = post(io, pool, "/api/login/", {{"Content-Type", "application/json"}},
                    R"({"username":"alice","password":"alice-password"})");
  ASSERT_TRUE(login) << login.error().message;
  ASSERT_EQ(login->status, 200U) << login->body;
  const std::string set_cookie{net::find_header(login->headers, "Set-Cookie").value_or("")};
  const auto cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf{get_string(*parse_json_object(login->body), "csrf_token").value_or("")};
  auto token = post(io, pool, "/api/ws-token/", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, "");
  ASSERT_TRUE(token) << token.error().message;
  ASSERT_EQ(token->status, 200U) << token->body;
  const std::string ws_token{get_string(*parse_json_object(token->body), "token").value_or("")};
  testing::ws_client client(
      gateway_port_, "/dev?channel=general&ws_token=" + ws_token,
      {{"Origin", std::string(k_origin)}, {"Cookie", cookie}, {"Sec-WebSocket-Extensions", "permessage-deflate"}});
  ASSERT_TRUE(client.ok()) << client.status() << "\n" << backend_->err() << gateway_->err();

  const auto accepted_before = management_calls(io, pool, 200);
  const auto refused_before = management_calls(io, pool, 403);
  const std::string text = fmt::format("hello over {}", c.name);
  client.send(fmt::format(R"({{"handler":"say","text":"{}"}})", text));
  auto message = client.read(c.accepted ? 15s : 3s);
  if (c.accepted) {
    ASSERT_TRUE(message) << "no message\nbackend:\n" << backend_->err() << "\ngateway:\n" << gateway_->err();
    auto doc = parse_json_object(*message);
    ASSERT_TRUE(doc) << *message;
    EXPECT_EQ(get_string(*doc, "type").value_or(""), "chat_message") << *message;
    EXPECT_NE(message->find(text), std::string::npos) << *message;
    // The gateway counts the call once its answer is written, which may be after the frame.
    for (int i = 0; i < 500 && management_calls(io, pool, 200) == accepted_before; ++i)
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(management_calls(io, pool, 200), accepted_before + 1);
    EXPECT_EQ(management_calls(io, pool, 403), refused_before);
    EXPECT_EQ(gateway_->err().find("signature rejected"), std::string::npos) << gateway_->err();
    if (c.fake_path.empty()) {
      EXPECT_TRUE(aws_.requests().empty()) << aws_.requests().front().target;
    } else {
      EXPECT_GE(aws_.count(c.fake_path), 1U) << "the credentials did not come from " << c.fake_path;
    }
  } else {
    EXPECT_FALSE(message) << *message;
    for (int i = 0; i < 500 && management_calls(io, pool, 403) == refused_before; ++i)
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(management_calls(io, pool, 403), refused_before + 1);
    EXPECT_EQ(management_calls(io, pool, 200), accepted_before);
    EXPECT_NE(gateway_->err().find("signature rejected"), std::string::npos) << gateway_->err();
  }
  client.close();
}

// Each provider, as a deployment would configure it.
const std::vector<a_case> k_cases{
    {"environment",
     [](auto& env, const fs::path&, testing::fake_aws&) {
       env["AWS_ACCESS_KEY_ID"] = std::string(k_env_id);
       env["AWS_SECRET_ACCESS_KEY"] = fmt::format("secret-{}", k_env_id);
       env["AWS_SESSION_TOKEN"] = fmt::format("token-{}", k_env_id);
     }},
    {"shared_credentials_file",
     [](auto&, const fs::path& home, testing::fake_aws&) {
       write(home / ".aws" / "credentials",
             fmt::format("[default]\naws_access_key_id = {0}\naws_secret_access_key = secret-{0}\n", k_file_id));
     }},
    {"credential_process",
     [](auto&, const fs::path& home, testing::fake_aws& aws) {
       write(home / "process.json", fmt::format(R"({{"Version":1,"AccessKeyId":"{0}","SecretAccessKey":"secret-{0}",)"
                                                R"("SessionToken":"token-{0}","Expiration":"{1}"}})",
                                                k_process_id, testing::iso_seconds(aws.expiry())));
       write(home / ".aws" / "config",
             fmt::format("[default]\ncredential_process = /bin/cat {}\n", (home / "process.json").string()));
     }},
    {"assume_role_with_a_source_profile",
     [](auto& env, const fs::path& home, testing::fake_aws& aws) {
       write(home / ".aws" / "credentials", fmt::format("[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                                                        testing::k_fake_static_id, testing::k_fake_static_secret));
       write(home / ".aws" / "config",
             "[default]\nrole_arn = arn:aws:iam::123456789012:role/APP-ROLE\nsource_profile = base\n");
       env["AWS_ENDPOINT_URL_STS"] = aws.url();
     },
     true, "/"},
    {"web_identity",
     [](auto& env, const fs::path& home, testing::fake_aws& aws) {
       write(home / "token", "web-identity-token.abc");
       env["AWS_WEB_IDENTITY_TOKEN_FILE"] = (home / "token").string();
       env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/IRSA";
       env["AWS_ENDPOINT_URL_STS"] = aws.url();
     },
     true, "/"},
    {"container_full_uri_with_a_token",
     [](auto& env, const fs::path&, testing::fake_aws& aws) {
       env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws.url() + "/ecs/v2/credentials";
       env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer pod-token";
       aws.set_container_auth("Bearer pod-token");
     },
     true, "/ecs/"},
    {"container_full_uri_with_a_token_file",
     [](auto& env, const fs::path& home, testing::fake_aws& aws) {
       write(home / "eks-pod-identity-token", "pod-identity-token-from-file");
       env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = aws.url() + "/ecs/v2/credentials";
       env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (home / "eks-pod-identity-token").string();
       aws.set_container_auth("pod-identity-token-from-file");
     },
     true, "/ecs/"},
    {"instance_metadata_v2",
     [](auto& env, const fs::path&, testing::fake_aws& aws) {
       env["AWS_EC2_METADATA_DISABLED"] = "false";
       env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = aws.url();
     },
     true, "/latest/meta-data/iam/security-credentials/demo-role"},
    {"sso_session",
     [](auto& env, const fs::path& home, testing::fake_aws& aws) {
       write(home / ".aws" / "config",
             "[default]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Developer\n"
             "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
       write(home / ".aws" / "sso" / "cache" / (testing::sha1_hex("corp") + ".json"),
             fmt::format(R"({{"startUrl":"https://corp.awsapps.com/start","region":"eu-west-1",)"
                         R"("accessToken":"{}","expiresAt":"{}"}})",
                         testing::k_fake_sso_token, testing::iso_seconds(aws.expiry() + std::chrono::hours{6})));
       env["AWS_ENDPOINT_URL_SSO"] = aws.url();
     },
     true, "/federation/credentials"},
    {"control_a_secret_the_gateway_does_not_know",
     [](auto& env, const fs::path&, testing::fake_aws&) {
       env["AWS_ACCESS_KEY_ID"] = std::string(k_env_id);
       env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret";
       env["AWS_SESSION_TOKEN"] = fmt::format("token-{}", k_env_id);
     },
     false},
};

INSTANTIATE_TEST_SUITE_P(each_provider, readme_backend, ::testing::ValuesIn(k_cases),
                         [](const ::testing::TestParamInfo<a_case>& info) { return info.param.name; });

// The program these tests run is the README's text: the snippet in README.md and the one between
// the markers of tests/readme/view.cpp are the same lines.
TEST(readme_backend_source, the_readme_shows_the_code_these_tests_run) {
  const fs::path source = std::getenv("APIGW_SOURCE_DIR") != nullptr ? std::getenv("APIGW_SOURCE_DIR") : ".";
  const std::string view = read(source / "tests" / "readme" / "view.cpp");
  const auto begin = view.find("// README: view\n");
  const auto end = view.find("// README: end", begin);
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  const std::string snippet = view.substr(begin + 16, end - begin - 16);
  ASSERT_NE(snippet.find("provider_signing"), std::string::npos);
  const std::string readme = read(source / "README.md");
  EXPECT_NE(readme.find("```cpp\n" + snippet + "```"), std::string::npos)
      << "README.md no longer shows tests/readme/view.cpp's snippet";
}

}  // namespace
}  // namespace apigw
