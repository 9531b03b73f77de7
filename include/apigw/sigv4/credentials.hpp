// apigw/sigv4/credentials.hpp: the file-and-environment pieces of the AWS credentials chain: the
// shared credentials and config files (botocore's INI dialect, profile sections, sso-session
// sections), their locations (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, ~/.aws), the profile
// name (AWS_PROFILE, default "default"), static keys in a profile, and the region (AWS_REGION,
// AWS_DEFAULT_REGION, the profile's `region`).
//
// Everything these read comes in through `chain_options` (an environment lookup and a home
// directory), so tests are hermetic. The chain itself — explicit keys, the environment, the files,
// roles, credential_process, SSO, web identity, containers and instance metadata, with refresh —
// is apigw::mgmt::credentials_provider (apigw/mgmt/credentials_provider.hpp), the one way this
// project resolves credentials.
#pragma once

#include "apigw/core/config.hpp"
#include "apigw/core/error.hpp"
#include "apigw/sigv4/signer.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

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

// credential_kind: which provider found the credentials. The names botocore gives its providers
// (`Credentials.method`) are kept by credential_kind_name(), so results can be compared with it.
enum class credential_kind {
  explicit_keys,            // "explicit"
  environment,              // "env"
  shared_credentials_file,  // "shared-credentials-file"
  config_file,              // "config-file"
  credential_process,       // "custom-process"
  assume_role,              // "assume-role"
  web_identity,             // "assume-role-with-web-identity"
  sso,                      // "sso" (IAM Identity Center)
  container,                // "container-role" (ECS, EKS pod identity)
  instance_metadata,        // "iam-role" (EC2 IMDS)
};

// credential_kind_name: botocore's method name for `k` ("env", "assume-role", "iam-role", ...).
std::string_view credential_kind_name(credential_kind k) noexcept;

// resolved_credentials: credentials and where they were found, for logs and `apigw-ws` diagnostics
// ("environment", "shared credentials file /home/me/.aws/credentials, profile default"), and when
// they expire (temporary credentials from STS, a container or an instance; nullopt: never).
struct resolved_credentials {
  credentials creds;
  std::string source;
  credential_kind kind = credential_kind::explicit_keys;
  std::optional<clock::time_point> expiry;
};

// profile_settings: the settings of one profile (keys lower-case), as botocore's config loader
// reads them; profile_map: profile name -> settings.
using profile_settings = std::map<std::string, std::string, std::less<>>;
using profile_map = std::map<std::string, profile_settings, std::less<>>;

// shared_files: both files of a chain, parsed. `config` is keyed by profile name ("[profile x]" ->
// "x", "[default]" -> "default"); `credentials` by section name. A file that does not exist is
// empty here (and its path still set).
struct shared_files {
  std::optional<std::filesystem::path> credentials_path;
  profile_map credentials;
  std::optional<std::filesystem::path> config_path;
  profile_map config;
  profile_map sso_sessions;  // the config file's [sso-session NAME] sections, by NAME

  // merged: botocore's `full_config` view of one profile: the config file's settings overlaid by
  // the credentials file's; nullopt when neither file has the profile.
  std::optional<profile_settings> merged(std::string_view profile) const;
};

// load_shared_files: reads both files. A file that does not exist is skipped; one that exists but
// cannot be read is credentials_file_unreadable and one that is not valid INI is
// credentials_file_malformed (both naming the file, the second the line).
result<shared_files> load_shared_files(const chain_options& opts);

// setting: the non-empty value of `key` in `s`, or nullopt.
std::optional<std::string> setting(const profile_settings& s, std::string_view key);

// static_credentials: aws_access_key_id + aws_secret_access_key (+ aws_session_token) of a profile,
// nullopt when it has neither, incomplete_credentials naming `where` when it has only one.
result<std::optional<credentials>> static_credentials(const profile_settings& s, std::string_view where);

// resolved_region: a region and where it came from ("environment variable AWS_REGION").
struct resolved_region {
  std::string region;
  std::string source;
};

// resolve_region: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region` in the config
// file. Fails with region_not_found listing the places looked, or with the file errors of
// load_shared_files().
result<resolved_region> resolve_region(const chain_options& opts);

}  // namespace apigw::sigv4
