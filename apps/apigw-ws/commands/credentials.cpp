// apigw-ws credentials: which AWS credentials and region the tool (and a backend using
// mgmt::credentials_provider with the same environment) would use, like `aws configure list`.
// The access key id is masked but for its last four characters; the secret and token never print.
#include "cli_common.hpp"

#include "apigw/mgmt/credentials_provider.hpp"
#include "apigw/sigv4/credentials.hpp"

#include <fmt/format.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace apigw::cli {
namespace {

std::string mask_key(const std::string& id) {
  if (id.size() <= 4) return std::string(id.size(), '*');
  return std::string(id.size() - 4, '*') + id.substr(id.size() - 4);
}

struct credentials_args {
  std::string profile;
  std::string region;
  std::string format = "text";
};

int show_credentials(const globals& g, const credentials_args& a) {
  auto shared = make_credentials_provider(a.profile.empty() ? std::nullopt : std::optional<std::string>(a.profile));
  auto& provider = *shared;
  auto found = provider.get();
  if (!found) return fail("credentials", found.error());

  std::string region = a.region;
  std::string region_source = "--region";
  if (region.empty()) {
    if (auto r = provider.region()) {
      region = r->region;
      region_source = r->source;
    } else {
      region_source = r.error().message;
    }
  }
  const std::string key = mask_key(found->creds.access_key_id);
  const std::string expiry = found->expiry ? format_iso8601(*found->expiry) : std::string{};
  if (a.format == "json") {
    boost::json::object o;
    o["source"] = found->source;
    o["method"] = std::string(sigv4::credential_kind_name(found->kind));
    o["access_key_id"] = key;
    o["temporary"] = !found->creds.session_token.empty();
    if (found->expiry) {
      o["expiry"] = expiry;
    } else {
      o["expiry"] = nullptr;
    }
    if (region.empty()) {
      o["region"] = nullptr;
    } else {
      o["region"] = region;
    }
    o["region_source"] = region_source;
    fmt::print("{}\n", boost::json::serialize(o));
    return k_exit_ok;
  }
  if (g.quiet) return k_exit_ok;
  fmt::print("source      {} ({})\n", found->source, sigv4::credential_kind_name(found->kind));
  fmt::print("access key  {}{}\n", key, found->creds.session_token.empty() ? "" : " (temporary, with a session token)");
  fmt::print("expiry      {}\n", found->expiry ? expiry : std::string("never"));
  if (region.empty()) {
    fmt::print("region      none: {}\n", region_source);
  } else {
    fmt::print("region      {} ({})\n", region, region_source);
  }
  return k_exit_ok;
}

}  // namespace

void register_credentials(CLI::App& app, const globals& g, command_runner& run) {
  auto* cmd = app.add_subcommand(
      "credentials", "Show which AWS credentials (key masked) and region would be used, and where they come from");
  auto args = std::make_shared<credentials_args>();
  cmd->add_option("--profile", args->profile,
                  "AWS profile (like aws --profile: the AWS_ACCESS_KEY_ID variables are then not used)");
  cmd->add_option("--region", args->region, "Region to show instead of the resolved one");
  cmd->add_option("--format", args->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  add_example(cmd, "apigw-ws credentials --profile prod --format json");
  cmd->callback([&g, &run, args] { run = [&g, args] { return show_credentials(g, *args); }; });
}

}  // namespace apigw::cli
