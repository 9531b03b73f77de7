// The credentials provider: botocore's chain (explicit, environment, assume role, web identity,
// shared files, credential_process, container, instance metadata) over the sources of
// credentials_sources.cpp, the first answer cached and refreshed from the same source ahead of its
// expiry (botocore's advisory and mandatory windows).
#include "apigw/mgmt/credentials_provider.hpp"

#include "apigw/core/json.hpp"
#include "apigw/mgmt/endpoint.hpp"
#include "apigw/mgmt/error.hpp"
#include "apigw/sigv4/error.hpp"
#include "mgmt/credentials_sources.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace apigw::mgmt {
namespace {

using detail::fetch_failed;
using sigv4::credential_kind;
using sigv4::resolved_credentials;

bool profile_named(const sigv4::chain_options& c) {
  return c.profile && !c.profile->empty();
}

}  // namespace

// ---- The provider ----

struct credentials_provider::impl : detail::credential_sources {
  explicit impl(options o) : credential_sources(std::move(o)) {}

  ~impl() { wait_for_refresh(); }

  std::mutex state_mu;  // guards current, refresh_fn, refreshing, worker and refresh_failed_at
  std::optional<resolved_credentials> current;
  std::function<result<resolved_credentials>()> refresh_fn;
  bool refreshing = false;  // a background refresh is running (or about to)
  std::condition_variable refreshed;
  std::thread worker;  // the last background refresh; joined before the next one starts
  // refresh_failed_at: when a refresh last failed while the current credentials were still valid;
  // the next background refresh waits `retry_after_failure` after it.
  std::optional<clock::time_point> refresh_failed_at;
  std::mutex refresh_mu;                // one fetch (first resolution or refresh) at a time
  std::optional<failure> last_failure;  // the first resolution's failure, with refresh_mu held
  clock::time_point last_failure_at;
  std::mutex region_mu;  // guards found_region
  std::optional<sigv4::resolved_region> found_region;

  void log(const std::string& line) const {
    if (opts.log) opts.log(line);
  }

  // ---- Region: the static sources, then the instance identity document ----

  result<sigv4::resolved_region> region() {
    auto r = sigv4::resolve_region(opts.chain);
    if (r || r.error() != sigv4::error::region_not_found || imds_disabled()) return r;
    auto doc = imds_get_document("latest/dynamic/instance-identity/document");
    if (!doc) {
      return failure{sigv4::error::region_not_found,
                     fmt::format("{}\n  - EC2 instance metadata: {}", r.error().message, doc.error().message)};
    }
    auto obj = parse_json_object(*doc);
    std::optional<std::string_view> region;
    if (obj) region = get_string(*obj, "region");
    if (!region || region->empty()) {
      return failure{
          sigv4::error::region_not_found,
          fmt::format("{}\n  - EC2 instance metadata: the identity document has no region", r.error().message)};
    }
    return sigv4::resolved_region{std::string(*region), "EC2 instance metadata (instance identity document)"};
  }

  // ---- Assume role ----

  using fetch_fn = std::function<result<resolved_credentials>()>;
  struct found {
    resolved_credentials creds;
    fetch_fn refresh;  // fetches again from the same source; empty for static credentials
  };

  static bool has_role(const sigv4::profile_settings& p) {
    return p.contains("role_arn") && !p.contains("web_identity_token_file");
  }
  static bool has_static(const sigv4::profile_settings& p) {
    return p.contains("aws_access_key_id") || p.contains("aws_secret_access_key");
  }

  // once: fetches now; keeps `f` for refreshes when what it fetched expires.
  static result<found> once(fetch_fn f) {
    auto r = f();
    if (!r) return r.error();
    const bool expires = r->expiry.has_value();
    return found{std::move(*r), expires ? std::move(f) : fetch_fn{}};
  }

  // role_source: a fetcher of the source credentials of the role in `profile_name`.
  result<fetch_fn> role_source(const sigv4::shared_files& files, const std::string& profile_name,
                               const sigv4::profile_settings& profile, std::vector<std::string>& visited) {
    auto source_profile = sigv4::setting(profile, "source_profile");
    auto credential_source = sigv4::setting(profile, "credential_source");
    if (source_profile && credential_source) {
      return failure{
          sigv4::error::invalid_profile,
          fmt::format("The profile \"{}\" contains both source_profile and credential_source.", profile_name)};
    }
    if (!source_profile && !credential_source) {
      return failure{
          sigv4::error::invalid_profile,
          fmt::format("profile \"{}\" has role_arn but neither source_profile nor credential_source", profile_name)};
    }
    if (credential_source) {
      const std::string cs = *credential_source;
      if (cs == "Environment") {
        return fetch_fn{[this, profile_name]() -> result<resolved_credentials> {
          auto env = environment_credentials(false);
          if (!env) return env.error();
          if (!*env) {
            return fetch_failed(
                fmt::format("credential_source Environment of profile {}: AWS_ACCESS_KEY_ID is not set", profile_name));
          }
          return std::move(**env);
        }};
      }
      if (cs == "EcsContainer") {
        return fetch_fn{[this, profile_name]() -> result<resolved_credentials> {
          auto url = container_url();
          if (!url) return url.error();
          if (!*url) {
            return fetch_failed(
                fmt::format("credential_source EcsContainer of profile {}: neither "
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set",
                            profile_name));
          }
          return fetch_container(**url);
        }};
      }
      if (cs == "Ec2InstanceMetadata") return fetch_fn{[this] { return fetch_imds(); }};
      return failure{
          sigv4::error::invalid_profile,
          fmt::format("The credential source \"{}\" referenced in profile \"{}\" is not valid.", cs, profile_name)};
    }
    const std::string& src = *source_profile;
    auto src_settings = files.merged(src);
    if (!src_settings) {
      return failure{
          sigv4::error::invalid_profile,
          fmt::format("The source_profile \"{}\" referenced in the profile \"{}\" does not exist.", src, profile_name)};
    }
    const bool seen = std::find(visited.begin(), visited.end(), src) != visited.end();
    if (seen && (src != profile_name || !has_static(*src_settings))) {
      return failure{sigv4::error::invalid_profile,
                     fmt::format("infinite loop in source_profile: {} -> {}", fmt::join(visited, " -> "), src)};
    }
    visited.push_back(src);
    if (has_static(*src_settings) || !has_role(*src_settings)) {
      // The source profile's own providers (botocore: the profile chain without the environment).
      auto chain = profile_chain(files, src, true);
      if (!chain) return chain.error();
      if (!*chain) {
        return failure{sigv4::error::invalid_profile,
                       fmt::format("The source profile \"{}\" must have credentials.", src)};
      }
      auto f = std::move(**chain);
      auto first = std::make_shared<std::optional<resolved_credentials>>(std::move(f.creds));
      fetch_fn again = std::move(f.refresh);
      return fetch_fn{[first, again]() -> result<resolved_credentials> {
        // The first call uses what the profile chain already fetched; later ones fetch again when
        // the source expires, else reuse it.
        if (*first && (!(*first)->expiry || !again)) return **first;
        if (*first) {
          auto r = std::move(**first);
          first->reset();
          return r;
        }
        return again();
      }};
    }
    auto nested = assume_role_fetcher(files, src, *src_settings, visited);
    if (!nested) return nested.error();
    return std::move(*nested);
  }

  result<fetch_fn> assume_role_fetcher(const sigv4::shared_files& files, const std::string& profile_name,
                                       const sigv4::profile_settings& profile, std::vector<std::string>& visited) {
    auto source = role_source(files, profile_name, profile, visited);
    if (!source) return source.error();
    const std::string role_arn = sigv4::setting(profile, "role_arn").value_or("");
    std::vector<std::pair<std::string, std::string>> extra;
    if (auto v = sigv4::setting(profile, "duration_seconds")) {
      if (!v->empty() &&
          std::all_of(v->begin(), v->end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        extra.emplace_back("DurationSeconds", *v);
      }
    }
    if (auto v = sigv4::setting(profile, "external_id")) extra.emplace_back("ExternalId", *v);
    if (sigv4::setting(profile, "mfa_serial")) {
      return failure{
          sigv4::error::invalid_profile,
          fmt::format("profile \"{}\" needs an MFA code (mfa_serial), which a server cannot enter", profile_name)};
    }
    auto session_name = sigv4::setting(profile, "role_session_name");
    return fetch_fn{[this, role_arn, extra, session_name, profile_name,
                     src = std::move(*source)]() -> result<resolved_credentials> {
      auto base = src();
      if (!base) return base.error();
      std::vector<std::pair<std::string, std::string>> params{
          {"RoleArn", role_arn},
          {"RoleSessionName",
           session_name.value_or(
               fmt::format("apigw-ws-session-{}",
                           std::chrono::duration_cast<std::chrono::seconds>(clk.now().time_since_epoch()).count()))}};
      params.insert(params.end(), extra.begin(), extra.end());
      return sts_call("AssumeRole", params, &base->creds, credential_kind::assume_role,
                      fmt::format("role {} of profile {} (source: {})", role_arn, profile_name, base->source));
    }};
  }

  // ---- The chain ----

  // sso: the profile's SSO settings with its sso-session merged in (botocore's
  // SSOProvider._load_sso_config): a setting in both must agree; all four are required.
  static result<detail::sso_config> sso(const sigv4::shared_files& files, const std::string& profile,
                                        const sigv4::profile_settings& settings) {
    sigv4::profile_settings merged = settings;
    auto session = sigv4::setting(settings, "sso_session");
    if (session) {
      auto it = files.sso_sessions.find(*session);
      if (it == files.sso_sessions.end()) {
        return failure{sigv4::error::invalid_profile,
                       fmt::format("The specified sso-session does not exist: \"{}\"", *session)};
      }
      for (const auto& [k, v] : it->second) {
        if (auto mine = merged.find(k); mine != merged.end() && mine->second != v) {
          return failure{sigv4::error::invalid_profile,
                         fmt::format("The value for {} is inconsistent between profile ({}) and sso-session ({}).", k,
                                     mine->second, v)};
        }
        merged[k] = v;
      }
    }
    std::vector<std::string> missing;
    for (const char* k : {"sso_role_name", "sso_account_id", "sso_start_url", "sso_region"}) {
      if (!sigv4::setting(merged, k)) missing.emplace_back(k);
    }
    if (!missing.empty()) {
      return failure{
          sigv4::error::invalid_profile,
          fmt::format("The profile \"{}\" is configured to use SSO but is missing required configuration: {}", profile,
                      fmt::join(missing, ", "))};
    }
    return detail::sso_config{*sigv4::setting(merged, "sso_start_url"), *sigv4::setting(merged, "sso_region"),
                              *sigv4::setting(merged, "sso_account_id"), *sigv4::setting(merged, "sso_role_name"),
                              session};
  }

  // profile_chain: botocore's ProfileProviderBuilder: web identity, SSO, the
  // shared credentials file, credential_process, the config file.
  result<std::optional<found>> profile_chain(const sigv4::shared_files& files, const std::string& profile,
                                             bool disable_env, std::vector<std::string>* looked = nullptr) {
    const auto note = [&](std::string line) {
      if (looked != nullptr) looked->push_back(std::move(line));
    };
    auto merged = files.merged(profile);
    auto wi = web_identity(merged, disable_env);
    if (!wi) return wi.error();
    if (*wi) {
      auto f = once([this, c = **wi] { return fetch_web_identity(c); });
      if (!f) return f.error();
      return std::optional<found>{std::move(*f)};
    }
    note("web identity: no AWS_WEB_IDENTITY_TOKEN_FILE or web_identity_token_file");
    if (merged && (merged->contains("sso_role_name") || merged->contains("sso_account_id"))) {
      auto cfg = sso(files, profile, *merged);
      if (!cfg) return cfg.error();
      auto f = once([this, c = *cfg] { return fetch_sso(c); });
      if (!f) return f.error();
      return std::optional<found>{std::move(*f)};
    }
    for (bool credentials_file : {true, false}) {
      const auto& path = credentials_file ? files.credentials_path : files.config_path;
      const auto& map = credentials_file ? files.credentials : files.config;
      const std::string label = credentials_file ? "shared credentials file" : "config file";
      const std::string shown = path ? path->string() : std::string("(no home directory)");
      if (auto it = map.find(profile); it != map.end()) {
        const std::string where = fmt::format("{} {}, profile {}", label, shown, profile);
        auto keys = sigv4::static_credentials(it->second, where);
        if (!keys) return keys.error();
        if (*keys) {
          return std::optional<found>{
              found{resolved_credentials{
                        std::move(**keys), where,
                        credentials_file ? credential_kind::shared_credentials_file : credential_kind::config_file},
                    {}}};
        }
        note(fmt::format("{}: no aws_access_key_id", where));
      } else {
        note(fmt::format("{} {}: no profile {}", label, shown, profile));
      }
      if (credentials_file && merged) {
        if (auto command = sigv4::setting(*merged, "credential_process")) {
          auto f = once([cmd = *command, profile] { return detail::fetch_process(cmd, profile); });
          if (!f) return f.error();
          return std::optional<found>{std::move(*f)};
        }
        note(fmt::format("credential_process: none in profile {}", profile));
      }
    }
    return std::optional<found>{};
  }

  result<found> resolve() {
    std::vector<std::string> looked;
    if (opts.chain.explicit_credentials) {
      const auto& c = *opts.chain.explicit_credentials;
      if (c.access_key_id.empty() || c.secret_access_key.empty()) {
        return failure{sigv4::error::incomplete_credentials,
                       "the explicit credentials lack an access key id or a secret key"};
      }
      return found{resolved_credentials{c, "explicit", credential_kind::explicit_keys}, {}};
    }
    looked.emplace_back("explicit credentials: none given");
    const bool named = profile_named(opts.chain);
    const std::string profile = sigv4::profile_name(opts.chain);
    if (!named) {
      auto env = environment_credentials(false);
      if (!env) return env.error();
      if (*env) {
        fetch_fn again;
        if ((*env)->expiry) {
          again = [this]() -> result<resolved_credentials> {
            auto e = environment_credentials(true);
            if (!e) return e.error();
            if (!*e) return fetch_failed("environment: AWS_ACCESS_KEY_ID is no longer set");
            return std::move(**e);
          };
        }
        return found{std::move(**env), std::move(again)};
      }
      looked.emplace_back("environment: AWS_ACCESS_KEY_ID not set");
    } else {
      looked.push_back(fmt::format("environment: skipped, profile \"{}\" was named explicitly", profile));
    }
    auto files = sigv4::load_shared_files(opts.chain);
    if (!files) return files.error();
    if (auto p = files->merged(profile); p && has_role(*p)) {
      std::vector<std::string> visited{profile};
      auto f = assume_role_fetcher(*files, profile, *p, visited);
      if (!f) return f.error();
      return once(std::move(*f));
    }
    looked.push_back(fmt::format("assume role: profile {} has no role_arn", profile));
    auto chain = profile_chain(*files, profile, named, &looked);
    if (!chain) return chain.error();
    if (*chain) return std::move(**chain);
    auto url = container_url();
    if (!url) return url.error();
    if (*url) return once([this, u = **url] { return fetch_container(u); });
    looked.emplace_back("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set");
    if (imds_disabled()) {
      looked.emplace_back("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    } else {
      auto imds = once([this] { return fetch_imds(); });
      if (imds) return imds;
      looked.push_back(imds.error().message);
    }
    std::string places;
    for (const auto& l : looked) places.append("\n  - ").append(l);
    return failure{sigv4::error::credentials_not_found,
                   fmt::format("no AWS credentials found for profile \"{}\"; looked in:{}", profile, places)};
  }

  // ---- Caching and refresh ----

  bool needs_refresh(const resolved_credentials& c, std::chrono::seconds window) const {
    return c.expiry && *c.expiry - clk.now() < window;
  }

  // refresh_locked: with refresh_mu held.
  result<resolved_credentials> refresh_locked(bool mandatory) {
    std::optional<resolved_credentials> old;
    fetch_fn fn;
    std::optional<clock::time_point> failed_at;
    {
      std::lock_guard lock(state_mu);
      old = current;
      fn = refresh_fn;
      failed_at = refresh_failed_at;
    }
    if (old && !needs_refresh(*old, mandatory ? opts.mandatory_refresh : opts.advisory_refresh)) return *old;
    // A refresh failed a moment ago and the current credentials are still valid: keep them rather
    // than make every caller wait for the source again.
    if (old && old->expiry && *old->expiry > clk.now() && failed_at &&
        clk.now() - *failed_at < opts.retry_after_failure) {
      return *old;
    }
    if (!old && last_failure && clk.now() - last_failure_at < opts.retry_after_failure) return *last_failure;
    result<resolved_credentials> fresh = failure{sigv4::error::credentials_fetch_failed, "no source"};
    fetch_fn next_fn;
    if (!old || !fn) {
      auto r = resolve();
      if (r) {
        next_fn = std::move(r->refresh);
        fresh = std::move(r->creds);
      } else {
        fresh = r.error();
      }
    } else {
      fresh = fn();
      next_fn = fn;
      if (fresh && fresh->expiry && *fresh->expiry <= clk.now()) {
        fresh = fetch_failed(fmt::format("{}: the refreshed credentials are already expired", fresh->source));
      }
    }
    if (fresh) {
      std::lock_guard lock(state_mu);
      current = *fresh;
      refresh_fn = std::move(next_fn);
      refresh_failed_at.reset();
      return fresh;
    }
    if (!old) {
      last_failure = fresh.error();
      last_failure_at = clk.now();
      return fresh.error();
    }
    if (!old->expiry) return fresh.error();
    const auto now = clk.now();
    if (*old->expiry > now) {
      {
        std::lock_guard lock(state_mu);
        refresh_failed_at = now;
      }
      log(fmt::format(
          "refreshing AWS credentials from {} failed ({} refresh window); keeping the current ones, which "
          "expire at {}: {}",
          old->source, mandatory ? "mandatory" : "advisory", format_iso8601(*old->expiry), fresh.error().message));
      return *old;
    }
    log(fmt::format("refreshing AWS credentials from {} failed and they expired at {}: {}", old->source,
                    format_iso8601(*old->expiry), fresh.error().message));
    return failure{fresh.error().code,
                   fmt::format("AWS credentials from {} expired at {} and could not be refreshed: {}", old->source,
                               format_iso8601(*old->expiry), fresh.error().message)};
  }

  // refresh_in_background: starts one refresh on the provider's worker thread unless one is running
  // or the last one failed less than `retry_after_failure` ago. With state_mu held.
  void refresh_in_background(std::unique_lock<std::mutex>& state) {
    if (refreshing) return;
    if (refresh_failed_at && clk.now() - *refresh_failed_at < opts.retry_after_failure) return;
    refreshing = true;
    // The previous worker cleared `refreshing` as its last step: joining it does not wait for a fetch.
    if (worker.joinable()) worker.join();
    worker = std::thread([this] {
      {
        std::lock_guard lock(refresh_mu);
        (void)refresh_locked(false);
      }
      std::lock_guard lock(state_mu);
      refreshing = false;
      refreshed.notify_all();
    });
    (void)state;
  }

  void wait_for_refresh() {
    std::unique_lock state(state_mu);
    refreshed.wait(state, [this] { return !refreshing; });
    if (worker.joinable()) worker.join();
  }

  result<resolved_credentials> get() {
    {
      std::unique_lock state(state_mu);
      if (current && !needs_refresh(*current, opts.advisory_refresh)) return *current;
      if (current && !needs_refresh(*current, opts.mandatory_refresh)) {
        // Advisory window: the refresh runs on the worker; every caller goes on with what is there.
        refresh_in_background(state);
        return *current;
      }
    }
    // Mandatory window, or nothing yet: every caller waits for the one fetch (a background refresh
    // running already counts: refresh_locked sees its result).
    std::lock_guard lock(refresh_mu);
    return refresh_locked(true);
  }
};

credentials_provider::credentials_provider(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {}
credentials_provider::~credentials_provider() = default;

result<sigv4::resolved_credentials> credentials_provider::get() {
  return impl_->get();
}

void credentials_provider::wait_for_refresh() {
  impl_->wait_for_refresh();
}

result<sigv4::resolved_region> credentials_provider::region() {
  // A found region is kept: the instance identity document does not change under a process.
  std::lock_guard lock(impl_->region_mu);
  if (impl_->found_region) return *impl_->found_region;
  auto r = impl_->region();
  if (r) impl_->found_region = *r;
  return r;
}

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

std::function<result<signing_config>(std::string_view endpoint)> provider_signing(
    std::shared_ptr<credentials_provider> provider, std::string region) {
  return [provider = std::move(provider), region = std::move(region)](std::string_view url) -> result<signing_config> {
    auto ep = parse_endpoint(url);
    if (!ep) return ep.error();
    const bool loopback = is_loopback_host(ep->origin.host);
    auto creds = provider->get();
    if (!creds) {
      if (loopback && creds.error() == sigv4::error::credentials_not_found) return signing_config{};
      return failure{error::signing_failed,
                     fmt::format("no AWS credentials to sign requests to {}: {}", url, creds.error().message)};
    }
    signing_config config{creds->creds, region};
    if (config.region.empty() && ep->region.empty()) {
      auto r = provider->region();
      if (!r)
        return failure{error::signing_failed, fmt::format("cannot sign requests to {}: {}", url, r.error().message)};
      config.region = r->region;
    }
    return config;
  };
}

}  // namespace apigw::mgmt
