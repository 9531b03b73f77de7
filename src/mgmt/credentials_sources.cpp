// The sources of the credentials provider that call HTTP: STS (AssumeRole,
// AssumeRoleWithWebIdentity), the container endpoint and EC2 instance metadata, plus the
// environment; and the wire helpers they share with SSO (credentials_sso.cpp): form encoding, one
// HTTP call on the calling thread, STS's XML, AWS times.
#include "mgmt/credentials_sources.hpp"

#include "apigw/core/json.hpp"
#include "apigw/net/http_client_pool.hpp"
#include "apigw/net/url.hpp"
#include "apigw/sigv4/error.hpp"
#include "apigw/sigv4/signer.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

namespace apigw::mgmt {
namespace {

namespace asio = boost::asio;
using sigv4::credential_kind;
using sigv4::resolved_credentials;

constexpr std::string_view k_imds_default = "http://169.254.169.254/";
constexpr std::string_view k_container_host = "http://169.254.170.2";

using detail::credentials_from_json;
using detail::cut;
using detail::env_is_set;
using detail::env_of;
using detail::fetch_failed;
using detail::form_encode;
using detail::http_call;
using detail::http_settings;
using detail::join_url;
using detail::make_request;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// ---- Small wire helpers ----

// xml_text: the text of the first <tag>...</tag> in `xml`, entities decoded. STS answers are small
// and flat enough that this is all the XML reading they need.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag);
  const std::string close = fmt::format("</{}>", tag);
  const auto b = xml.find(open);
  if (b == std::string_view::npos) return std::nullopt;
  const auto start = b + open.size();
  const auto e = xml.find(close, start);
  if (e == std::string_view::npos) return std::nullopt;
  std::string_view raw = xml.substr(start, e - start);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    static constexpr std::array<std::pair<std::string_view, char>, 5> k_entities{
        {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
    bool matched = false;
    for (const auto& [name, ch] : k_entities) {
      if (raw.substr(i, name.size()) == name) {
        out.push_back(ch);
        i += name.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
  return out;
}

}  // namespace

// ---- Wire helpers shared with credentials_sso.cpp ----

std::string detail::form_encode(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out += fmt::format("%{:02X}", ch);
    }
  }
  return out;
}

result<net::http_response> detail::http_call(net::http_request req, const http_settings& s) {
  asio::io_context io;
  net::client_pool_options po;
  po.max_connections_per_origin = 1;
  po.timeouts.connect = s.timeout;
  po.timeouts.write = s.timeout;
  po.timeouts.read = s.timeout;
  po.timeouts.queue = s.timeout;
  if (s.extra_ca_pem != nullptr) po.extra_ca_pem = *s.extra_ca_pem;
  net::http_client_pool pool(io.get_executor(), po);
  result<net::http_response> out = fetch_failed("the HTTP request did not complete");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          out = co_await pool.request(std::move(req), net::request_options{.timeout = s.timeout});
        } catch (const std::exception& e) {
          out = fetch_failed(e.what());
        }
        pool.close();
      },
      asio::detached);
  io.run();
  return out;
}

result<net::http_request> detail::make_request(std::string_view method, std::string_view url_text) {
  auto u = net::parse_url(url_text);
  if (!u) return u.error();
  net::http_request req;
  req.method = std::string(method);
  req.origin = u->origin;
  req.target = u->path.empty() ? "/" : u->path;
  if (!u->query.empty()) req.target += "?" + u->query;
  req.headers.push_back({"Host", u->origin.host_header()});
  return req;
}

std::string detail::join_url(std::string_view base, std::string_view path) {
  if (!base.empty() && base.back() == '/') return fmt::format("{}{}", base, path);
  return fmt::format("{}/{}", base, path);
}

std::string detail::cut(std::string_view s, std::size_t n) {
  std::string out(s.substr(0, n));
  for (char& ch : out) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  if (s.size() > n) out += "...";
  return out;
}

// ---- Credentials documents (container, IMDS, credential_process) ----

result<resolved_credentials> detail::credentials_from_json(const json::object& doc, std::string_view token_key,
                                                           bool expiry_required, credential_kind kind,
                                                           std::string source) {
  auto id = get_string(doc, "AccessKeyId");
  auto secret = get_string(doc, "SecretAccessKey");
  if (!id || !secret || id->empty() || secret->empty()) {
    return fetch_failed(fmt::format("{}: the answer has no AccessKeyId and SecretAccessKey", source));
  }
  resolved_credentials r;
  r.creds.access_key_id = std::string(*id);
  r.creds.secret_access_key = std::string(*secret);
  if (auto token = get_string(doc, token_key)) r.creds.session_token = std::string(*token);
  if (auto exp = get_string(doc, "Expiration")) {
    r.expiry = parse_aws_time(*exp);
    if (!r.expiry) return fetch_failed(fmt::format("{}: Expiration \"{}\" is not a time", source, cut(*exp)));
  } else if (expiry_required) {
    return fetch_failed(fmt::format("{}: the answer has no Expiration", source));
  }
  r.kind = kind;
  r.source = std::move(source);
  return r;
}

namespace {

// ---- Container credentials (ECS, EKS pod identity) ----

bool container_host_allowed(const net::url& u) {
  if (u.origin.scheme == net::scheme::https) return true;
  const std::string& host = u.origin.host;
  for (std::string_view allowed : {"169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"}) {
    if (host == allowed) return true;
  }
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

}  // namespace

std::optional<clock::time_point> parse_aws_time(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|UTC|+HH:MM|-HH:MM)
  const auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > t.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' ||
      t[16] != ':') {
    return std::nullopt;
  }
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2), s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 ||
      *s > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000'000;
    const std::size_t start = pos;
    while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
      frac += std::chrono::nanoseconds{(t[pos] - '0') * scale};
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::chrono::minutes offset{0};
  if (t.substr(pos) == "UTC") {
    // botocore's JSONFileCache writes "%Y-%m-%dT%H:%M:%S%Z" ("...UTC"); older `aws sso login`
    // versions left SSO tokens in that form, and botocore (dateutil) reads them.
    pos = t.size();
  } else if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    const int sign = t[pos] == '-' ? -1 : 1;
    auto oh = digits(pos + 1, 2);
    std::size_t mpos = pos + 3;
    if (mpos < t.size() && t[mpos] == ':') ++mpos;
    auto om = digits(mpos, 2);
    if (!oh || !om) return std::nullopt;
    offset = std::chrono::minutes{sign * (*oh * 60 + *om)};
    pos = mpos + 2;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*mo)},
                                        std::chrono::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  const auto tp = std::chrono::sys_days{ymd} + std::chrono::hours{*h} + std::chrono::minutes{*mi} +
                  std::chrono::seconds{*s} + frac - offset;
  return std::chrono::time_point_cast<clock::duration>(tp);
}

std::string sts_endpoint(const sigv4::chain_options& chain, std::string_view region) {
  if (auto e = env_of(chain, "AWS_ENDPOINT_URL_STS")) return *e;
  if (auto e = env_of(chain, "AWS_ENDPOINT_URL")) return *e;
  if (region.empty()) return "https://sts.amazonaws.com";
  return fmt::format("https://sts.{}.amazonaws.com", region);
}

credentials_provider_options default_credentials_provider_options() {
  credentials_provider_options o;
  o.chain = sigv4::process_chain_options();
  return o;
}

namespace detail {

std::optional<std::string> env_of(const sigv4::chain_options& c, const std::string& name) {
  if (!c.env) return std::nullopt;
  auto v = c.env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

bool env_is_set(const sigv4::chain_options& c, const std::string& name) {
  return c.env && c.env(name).has_value();
}

failure fetch_failed(std::string message) {
  return failure{sigv4::error::credentials_fetch_failed, std::move(message)};
}

credential_sources::credential_sources(credentials_provider_options o)
    : opts(std::move(o)), clk(opts.clk ? *opts.clk : system_clock_source::instance()) {}

// ---- STS ----

std::string credential_sources::sts_region() {
  auto r = sigv4::resolve_region(opts.chain);
  return r ? r->region : std::string{};
}

result<resolved_credentials> credential_sources::sts_call(
    std::string_view action, const std::vector<std::pair<std::string, std::string>>& params,
    const sigv4::credentials* signer, credential_kind kind, std::string source) {
  const std::string region = sts_region();
  const std::string endpoint = sts_endpoint(opts.chain, region);
  auto req = make_request("POST", endpoint);
  if (!req) return fetch_failed(fmt::format("{}: STS endpoint {}: {}", source, endpoint, req.error().message));
  std::string body = fmt::format("Action={}&Version=2011-06-15", action);
  for (const auto& [k, v] : params) body += fmt::format("&{}={}", k, form_encode(v));
  req->headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  req->body = body;
  if (signer != nullptr) {
    sigv4::request to_sign{.method = req->method, .path = req->target, .query = {}, .headers = {}, .body = req->body};
    if (auto q = req->target.find('?'); q != std::string::npos) {
      to_sign.path = req->target.substr(0, q);
      to_sign.query = req->target.substr(q + 1);
    }
    for (const auto& h : req->headers) to_sign.headers.push_back({h.name, h.value});
    sigv4::signing_params sp;
    sp.region = region.empty() ? "us-east-1" : region;
    sp.service = "sts";
    sp.time = clk.now();
    auto added = sigv4::sign(to_sign, *signer, sp);
    if (!added) return fetch_failed(fmt::format("{}: cannot sign the STS request: {}", source, added.error().message));
    for (auto& h : *added) req->headers.push_back({std::move(h.name), std::move(h.value)});
  }
  auto resp = http_call(std::move(*req), {opts.sts_timeout, &opts.extra_ca_pem});
  if (!resp) return fetch_failed(fmt::format("{}: STS {} at {}: {}", source, action, endpoint, resp.error().message));
  if (resp->status != 200) {
    const auto code = xml_text(resp->body, "Code").value_or(fmt::format("HTTP {}", resp->status));
    const auto message = xml_text(resp->body, "Message").value_or(cut(resp->body));
    return fetch_failed(fmt::format("{}: STS {} at {} failed: {}: {}", source, action, endpoint, code, message));
  }
  resolved_credentials r;
  auto id = xml_text(resp->body, "AccessKeyId");
  auto secret = xml_text(resp->body, "SecretAccessKey");
  auto token = xml_text(resp->body, "SessionToken");
  auto exp = xml_text(resp->body, "Expiration");
  if (!id || !secret || !token || !exp) {
    return fetch_failed(fmt::format("{}: STS {} answered without credentials: {}", source, action, cut(resp->body)));
  }
  r.expiry = parse_aws_time(*exp);
  if (!r.expiry) return fetch_failed(fmt::format("{}: STS Expiration \"{}\" is not a time", source, cut(*exp)));
  r.creds = {std::move(*id), std::move(*secret), std::move(*token)};
  r.kind = kind;
  r.source = std::move(source);
  return r;
}

// ---- Web identity ----

result<resolved_credentials> credential_sources::fetch_web_identity(const web_identity_config& c) {
  const std::string source = fmt::format("web identity token {} for role {}", c.token_file, c.role_arn);
  std::ifstream in(c.token_file, std::ios::binary);
  if (!in) return fetch_failed(fmt::format("{}: the token file cannot be read", source));
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::pair<std::string, std::string>> params{
      {"RoleArn", c.role_arn},
      {"RoleSessionName", c.session_name.value_or(fmt::format(
                              "apigw-ws-session-{}",
                              std::chrono::duration_cast<std::chrono::seconds>(clk.now().time_since_epoch()).count()))},
      {"WebIdentityToken", ss.str()}};
  return sts_call("AssumeRoleWithWebIdentity", params, nullptr, credential_kind::web_identity, source);
}

// web_identity: the configuration when the environment (unless a profile is named) or the profile
// names a token file; each key from the environment first, then the profile (botocore's
// AssumeRoleWithWebIdentityProvider._get_config).
result<std::optional<web_identity_config>> credential_sources::web_identity(
    const std::optional<sigv4::profile_settings>& profile, bool disable_env) {
  const auto get = [&](const std::string& key, const std::string& var) -> std::optional<std::string> {
    if (!disable_env && env_is_set(opts.chain, var)) return opts.chain.env(var);
    if (profile) {
      if (auto it = profile->find(key); it != profile->end()) return it->second;
    }
    return std::nullopt;
  };
  auto file = get("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!file || file->empty()) return std::optional<web_identity_config>{};
  auto role = get("role_arn", "AWS_ROLE_ARN");
  if (!role || role->empty()) {
    return failure{sigv4::error::invalid_profile,
                   "a web identity token file is configured but no role ARN (role_arn in the profile or AWS_ROLE_ARN)"};
  }
  return std::optional<web_identity_config>{
      web_identity_config{*file, *role, get("role_session_name", "AWS_ROLE_SESSION_NAME")}};
}

// ---- Container credentials ----

result<std::optional<std::string>> credential_sources::container_url() {
  if (env_is_set(opts.chain, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    return std::optional<std::string>{
        fmt::format("{}{}", k_container_host, opts.chain.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").value_or(""))};
  }
  if (env_is_set(opts.chain, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    return std::optional<std::string>{opts.chain.env("AWS_CONTAINER_CREDENTIALS_FULL_URI").value_or("")};
  }
  return std::optional<std::string>{};
}

result<resolved_credentials> credential_sources::fetch_container(const std::string& url_text) {
  const std::string source = fmt::format("container credentials {}", url_text);
  auto u = net::parse_url(url_text);
  if (!u) return fetch_failed(fmt::format("{}: {}", source, u.error().message));
  if (!container_host_allowed(*u)) {
    return fetch_failed(
        fmt::format("{}: unsupported host '{}'; only https, a loopback address or 169.254.170.2, 169.254.170.23, "
                    "fd00:ec2::23, localhost are allowed",
                    source, u->origin.host));
  }
  auto req = make_request("GET", url_text);
  if (!req) return fetch_failed(fmt::format("{}: {}", source, req.error().message));
  req->headers.push_back({"Accept", "application/json"});
  std::optional<std::string> auth;
  if (env_is_set(opts.chain, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    const auto path = opts.chain.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").value_or("");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fetch_failed(fmt::format("{}: the authorization token file {} cannot be read", source, path));
    std::stringstream ss;
    ss << in.rdbuf();
    auth = ss.str();
  } else if (env_is_set(opts.chain, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    auth = opts.chain.env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (auth) {
    if (auth->find_first_of("\r\n") != std::string::npos) {
      return fetch_failed(fmt::format("{}: the authorization token contains a line break", source));
    }
    req->headers.push_back({"Authorization", *auth});
  }
  auto resp = http_call(std::move(*req), {opts.container_timeout, &opts.extra_ca_pem});
  if (!resp) return fetch_failed(fmt::format("{}: {}", source, resp.error().message));
  if (resp->status != 200) {
    return fetch_failed(fmt::format("{}: HTTP {}: {}", source, resp->status, cut(resp->body)));
  }
  auto doc = parse_json_object(resp->body);
  if (!doc) return fetch_failed(fmt::format("{}: the answer is not a JSON object", source));
  return credentials_from_json(*doc, "Token", true, credential_kind::container, source);
}

// ---- EC2 instance metadata ----

bool credential_sources::imds_disabled() const {
  auto v = opts.chain.env ? opts.chain.env("AWS_EC2_METADATA_DISABLED") : std::nullopt;
  return v && lower(*v) == "true";
}

std::string credential_sources::imds_base() const {
  return env_of(opts.chain, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(k_imds_default));
}

// imds_token: the IMDSv2 session token; nullopt when the service refuses tokens (403/404/405) and
// IMDSv1 is allowed.
result<std::optional<std::string>> credential_sources::imds_token() {
  auto req = make_request("PUT", join_url(imds_base(), "latest/api/token"));
  if (!req) return req.error();
  req->headers.push_back({"x-aws-ec2-metadata-token-ttl-seconds", "21600"});
  auto resp = http_call(std::move(*req), {opts.metadata_timeout, nullptr});
  if (!resp) return fetch_failed(fmt::format("token request: {}", resp.error().message));
  if (resp->status == 200 && !resp->body.empty()) return std::optional<std::string>{resp->body};
  if ((resp->status == 403 || resp->status == 404 || resp->status == 405) && opts.imds_v1_fallback) {
    return std::optional<std::string>{};
  }
  return fetch_failed(
      fmt::format("token request: HTTP {}{}", resp->status, opts.imds_v1_fallback ? "" : " (IMDSv1 fallback is off)"));
}

result<std::string> credential_sources::imds_get(const std::string& path, const std::optional<std::string>& token) {
  auto req = make_request("GET", join_url(imds_base(), path));
  if (!req) return req.error();
  if (token) req->headers.push_back({"x-aws-ec2-metadata-token", *token});
  auto resp = http_call(std::move(*req), {opts.metadata_timeout, nullptr});
  if (!resp) return fetch_failed(fmt::format("GET {}: {}", path, resp.error().message));
  if (resp->status != 200 || resp->body.empty()) {
    return fetch_failed(fmt::format("GET {}: HTTP {}{}", path, resp->status, resp->body.empty() ? ", empty" : ""));
  }
  return std::move(resp->body);
}

result<std::string> credential_sources::imds_get_document(const std::string& path) {
  auto token = imds_token();
  if (!token) return token.error();
  return imds_get(path, *token);
}

result<resolved_credentials> credential_sources::fetch_imds() {
  const std::string base = imds_base();
  const auto fail = [&](const failure& f) {
    return fetch_failed(fmt::format("EC2 instance metadata {}: {}", base, f.message));
  };
  if (imds_disabled())
    return fail(failure{sigv4::error::credentials_fetch_failed, "disabled by AWS_EC2_METADATA_DISABLED"});
  auto token = imds_token();
  if (!token) return fail(token.error());
  auto role = imds_get("latest/meta-data/iam/security-credentials/", *token);
  if (!role) return fail(role.error());
  std::string name = role->substr(0, role->find('\n'));
  auto doc_text = imds_get("latest/meta-data/iam/security-credentials/" + name, *token);
  if (!doc_text) return fail(doc_text.error());
  auto doc = parse_json_object(*doc_text);
  if (!doc) return fail(failure{sigv4::error::credentials_fetch_failed, "the credentials are not a JSON object"});
  if (auto code = get_string(*doc, "Code"); code && *code != "Success") {
    return fail(failure{sigv4::error::credentials_fetch_failed,
                        fmt::format("role {}: {} {}", name, *code, get_string(*doc, "Message").value_or(""))});
  }
  return credentials_from_json(*doc, "Token", true, credential_kind::instance_metadata,
                               fmt::format("EC2 instance metadata {}, role {}", base, name));
}

// environment_credentials: AWS_ACCESS_KEY_ID decides (botocore's EnvProvider); an expiry from
// AWS_CREDENTIAL_EXPIRATION makes them refresh by reading the environment again.
result<std::optional<resolved_credentials>> credential_sources::environment_credentials(bool require_expiry) {
  auto id = env_of(opts.chain, "AWS_ACCESS_KEY_ID");
  if (!id) return std::optional<resolved_credentials>{};
  auto secret = env_of(opts.chain, "AWS_SECRET_ACCESS_KEY");
  if (!secret) {
    return failure{sigv4::error::incomplete_credentials,
                   "environment variable AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"};
  }
  resolved_credentials r;
  auto token = env_of(opts.chain, "AWS_SECURITY_TOKEN");
  if (!token) token = env_of(opts.chain, "AWS_SESSION_TOKEN");
  r.creds = {*id, *secret, token.value_or("")};
  r.source = "environment";
  r.kind = credential_kind::environment;
  if (auto exp = env_of(opts.chain, "AWS_CREDENTIAL_EXPIRATION")) {
    r.expiry = parse_aws_time(*exp);
    if (!r.expiry) {
      return failure{sigv4::error::incomplete_credentials,
                     fmt::format("AWS_CREDENTIAL_EXPIRATION \"{}\" is not a time", *exp)};
    }
  } else if (require_expiry) {
    return fetch_failed("environment: AWS_CREDENTIAL_EXPIRATION is no longer set");
  }
  return std::optional<resolved_credentials>{std::move(r)};
}

}  // namespace detail
}  // namespace apigw::mgmt
