// karton/config.hpp — configuration loading (spec §1): Python configparser INI dialect, file
// sources and precedence, KARTON_<SECTION>_<OPTION> environment variables, the legacy [minio]
// section, typed getters with Python semantics, and the derived Redis/S3 connection settings
// (§1.6). The same dialect serves /etc/drakrun/config.ini (load_ini_file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karton/errors.hpp"

namespace karton {

// Environment is a name → value snapshot of environment variables.
using Environment = std::map<std::string, std::string>;

// current_environment returns the process environment (environ).
Environment current_environment();

// default_search_paths returns /etc/karton/karton.ini, $HOME/.config/karton/karton.ini (when
// HOME is set in `env`) and ./karton.ini.
std::vector<std::filesystem::path> default_search_paths(const Environment& env);

// Config is the merged section → option → value map. Every value is a string; the typed
// getters convert on use and throw ConfigError naming the source, section and option.
class Config {
  public:
    using Section = std::map<std::string, std::string>;

    struct LoadOptions {
        // Optional files, silently skipped when absent (spec §1.1 sources 1–3).
        std::vector<std::filesystem::path> search_paths{};
        // Explicit path (--config-file); must exist.
        std::optional<std::filesystem::path> path{};
        // Environment: KARTON_CONFIG_FILE (must exist) and KARTON_<SECTION>_<OPTION>.
        Environment env{};
        // Require [s3] (after [minio] compat) and [redis].
        bool check_sections = true;
    };

    // defaults returns LoadOptions with default_search_paths() and the process environment.
    static LoadOptions default_options();

    // load assembles the configuration per spec §1.1–§1.5. Throws ConfigError for a missing
    // required file, INI syntax errors (duplicate option/section, option before any section,
    // a line that is neither), interpolation errors (lone '%', unknown %(name)s, depth > 10),
    // a bad [minio] secure value, and missing [s3]/[redis] when check_sections.
    static Config load(const LoadOptions& opts);

    // load_ini_file reads one INI file in the same dialect (no environment, no section checks);
    // `must_exist` false: a missing file gives an empty Config. Throws ConfigError.
    static Config load_ini_file(const std::filesystem::path& path, bool must_exist = true);

    // parse_ini reads INI `text` (named `source_name` in errors) into a Config.
    static Config parse_ini(std::string_view text, const std::string& source_name = "<string>");

    bool has_section(std::string_view section) const;
    bool has_option(std::string_view section, std::string_view option) const;
    // section returns the options of `section`; nullptr when absent.
    const Section* section(std::string_view section) const;
    const std::map<std::string, Section, std::less<>>& sections() const { return sections_; }

    // get returns the raw string value; nullopt when absent.
    std::optional<std::string> get(std::string_view section, std::string_view option) const;
    // get_string returns the value or `fallback` when absent.
    std::string get_string(std::string_view section, std::string_view option,
                           std::string_view fallback = {}) const;
    // get_bool: case-insensitive 1/yes/true/on and 0/no/false/off; anything else (including
    // "") throws ConfigError. nullopt / fallback when absent.
    std::optional<bool> get_bool(std::string_view section, std::string_view option) const;
    bool get_bool(std::string_view section, std::string_view option, bool fallback) const;
    // get_int: Python int() of the text (surrounding whitespace, sign, '_' between digits;
    // base 10 only; must fit int64). Throws ConfigError. nullopt / fallback when absent.
    std::optional<std::int64_t> get_int(std::string_view section, std::string_view option) const;
    std::int64_t get_int(std::string_view section, std::string_view option,
                         std::int64_t fallback) const;
    // get_double: a decimal or exponent float (surrounding whitespace allowed). Throws
    // ConfigError. nullopt / fallback when absent.
    std::optional<double> get_double(std::string_view section, std::string_view option) const;
    double get_double(std::string_view section, std::string_view option, double fallback) const;

    // set stores a value (creating the section); `origin` names its source in error messages.
    void set(std::string section, std::string option, std::string value,
             std::string origin = "<set>");
    // origin returns where the value came from (file path or "env KARTON_..."); "" if absent.
    std::string origin(std::string_view section, std::string_view option) const;

  private:
    std::map<std::string, Section, std::less<>> sections_;
    std::map<std::string, std::string, std::less<>> origins_;  // "section\0option" → source
};

// parse_python_int applies Python int() rules to `text`; nullopt when invalid or outside int64.
std::optional<std::int64_t> parse_python_int(std::string_view text);
// parse_python_bool applies configparser's boolean spellings; nullopt when invalid.
std::optional<bool> parse_python_bool(std::string_view text);

// RedisConfig is the connection parameters the reference derives from [redis] (§1.6).
struct RedisConfig {
    // url set: host/port/db/ssl are not used (credentials embedded in the URL win over
    // username/password).
    std::optional<std::string> url;
    std::string host;
    int port = 6379;
    int db = 0;
    bool ssl = false;
    std::optional<std::string> username;  // empty values count as absent
    std::optional<std::string> password;
    // socket_timeout in seconds; nullopt = no timeout (configured as 0).
    std::optional<int> socket_timeout = 30;
};

// redis_config derives RedisConfig; throws ConfigError when [redis] lacks both host and url,
// or a number/boolean is malformed.
RedisConfig redis_config(const Config& cfg);

// S3Config is the [s3] section with AWS_* environment fallbacks (§1.6).
struct S3Config {
    std::string address;  // endpoint URL incl. scheme
    std::optional<std::string> access_key;
    std::optional<std::string> secret_key;
    std::optional<std::string> bucket;
    bool iam_auth = false;
};

// s3_config derives S3Config: address ← AWS_ENDPOINT_URL, access_key ← AWS_ACCESS_KEY_ID,
// secret_key ← AWS_SECRET_ACCESS_KEY when the option is absent. Throws ConfigError when no
// address is available or iam_auth is not a boolean.
S3Config s3_config(const Config& cfg, const Environment& env);

}  // namespace karton
