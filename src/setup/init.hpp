// setup/init.hpp — `draksetup init` (issue 8): create or edit /etc/drakrun/config.ini from the
// template, prompt for missing values, check Redis and S3 connectivity (spec §1.6 settings),
// create the `karton` and `drakrun` buckets, then write the config atomically and install and
// enable the systemd units of the selected components. Nothing is written when a check fails.
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "setup/systemd.hpp"

namespace drak_setup {

// kDefaultTemplate is where the deb installs the configuration template.
inline constexpr const char* kDefaultTemplate = "/usr/share/drakrun/config.ini.example";

// default_template_path: <exe>/../share/drakrun/config.ini.example when present, else
// kDefaultTemplate when present, else the source tree's data/config.ini.
std::filesystem::path default_template_path();

struct InitOptions {
    std::filesystem::path config_path;    // required
    std::filesystem::path template_path;  // empty: default_template_path()
    std::set<Component> components;       // empty: all
    bool unattended = false;
    std::optional<std::string> redis_host;
    std::optional<int> redis_port;
    // "host:port" or "http(s)://host:port"; s3_secure picks / overrides the scheme.
    std::optional<std::string> s3_address;
    std::optional<std::string> s3_access_key;
    std::optional<std::string> s3_secret_key;
    std::optional<bool> s3_secure;
    bool s3_make_buckets = true;
    // Skip the systemd step entirely (not only when systemd is absent).
    bool install_units = true;
    SystemdOptions systemd;
    // Connect / socket timeout of the Redis and S3 checks.
    std::chrono::milliseconds check_timeout{5000};
};

struct InitResult {
    bool created = false;              // the config did not exist before
    std::vector<std::string> changed;  // "section.option" values that were set
    std::vector<std::string> buckets_created;
    std::vector<Unit> units;       // units of the selected components
    bool units_installed = false;  // false: systemd absent or install_units off
};

// run_init performs `draksetup init`. Prompts (unless unattended) go to `out` and answers are
// read line by line from `in` (empty answer keeps the shown value). Progress goes to `out`.
// Throws SetupError for unreachable Redis/S3 (message names the address and the cause) and for
// systemctl failures, util::InputError for bad values or stdin closed while prompting,
// karton::ConfigError for a malformed existing config. The config file is only written after
// the connectivity checks pass, atomically (mode 0600 for a new file).
InitResult run_init(const InitOptions& options, std::istream& in, std::ostream& out);

// normalize_s3_address turns "host:port" into "http://host:port" (https when secure), and
// replaces the scheme of a full URL when `secure` is given. Throws util::InputError when the
// address is empty or has an unsupported scheme.
std::string normalize_s3_address(std::string_view address, std::optional<bool> secure);

}  // namespace drak_setup
