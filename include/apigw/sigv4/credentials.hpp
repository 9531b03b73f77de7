// apigw/sigv4/credentials.hpp: where AWS credentials and the region come from, in the order the
// AWS SDKs look: explicit -> environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) -> shared credentials file ([NAME] sections) -> config file ([profile NAME],
// [default]), for the profile named by AWS_PROFILE (default "default").
//
// Everything the chain reads comes in through `chain_options` (an environment lookup and a home
// directory), so tests are hermetic. Role assumption, SSO, credential_process and instance metadata
// are not resolved: a profile that only has those is reported as such.
#pragma once

#include "apigw/core/config.hpp"
#include "apigw/core/error.hpp"
#include "apigw/sigv4/signer.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace apigw::sigv4 {

// chain_options: the inputs of the chain.
struct chain_options {
  std::optional<credentials> explicit_credentials;  // used as they are when set
  // profile: overrides AWS_PROFILE. Like `aws --profile`, naming a profile here also makes the chain
  // skip the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables.
  std::optional<std::string> profile;
  env_lookup env;              // reads AWS_* variables; an empty function reads nothing
  std::filesystem::path home;  // for ~/.aws/credentials and ~/.aws/config; empty: no default files
};

// process_chain_options: options reading the process environment, with the home directory from
// $HOME (or, when unset, the password database).
chain_options process_chain_options();

// profile_name: opts.profile, else AWS_PROFILE, else "default".
std::string profile_name(const chain_options& opts);

// shared_credentials_file: AWS_SHARED_CREDENTIALS_FILE (a leading "~/" expanded), else
// <home>/.aws/credentials; nullopt when neither is known.
std::optional<std::filesystem::path> shared_credentials_file(const chain_options& opts);

// config_file: AWS_CONFIG_FILE (a leading "~/" expanded), else <home>/.aws/config; nullopt when
// neither is known.
std::optional<std::filesystem::path> config_file(const chain_options& opts);

// resolved_credentials: credentials and where they were found, for logs and `apigw-ws` diagnostics
// ("environment", "shared credentials file /home/me/.aws/credentials, profile default").
struct resolved_credentials {
  credentials creds;
  std::string source;
};

// resolve_credentials: the first source in the chain that has credentials. A file that does not
// exist is skipped; one that exists but cannot be read is credentials_file_unreadable and one that
// is not valid INI is credentials_file_malformed (both naming the file, the second the line). A
// source with a key but no secret (or the reverse) is incomplete_credentials. With nothing anywhere,
// credentials_not_found, whose message lists every place looked and what was found there.
result<resolved_credentials> resolve_credentials(const chain_options& opts);

// resolved_region: a region and where it came from ("environment variable AWS_REGION").
struct resolved_region {
  std::string region;
  std::string source;
};

// resolve_region: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` in the config
// file. Fails with region_not_found listing the places looked, or with the file errors of
// resolve_credentials().
result<resolved_region> resolve_region(const chain_options& opts);

}  // namespace apigw::sigv4
