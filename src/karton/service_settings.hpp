// karton/service_settings.hpp — from a loaded configuration to the ServiceSettings every
// Karton service needs (spec §1.6: [redis], [s3], [logging]), and the drakrun way of finding the
// configuration file (/etc/drakrun/config.ini, DRAKRUN_CONFIG, --config-file, KARTON_* env).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "karton/config.hpp"
#include "karton/producer.hpp"

namespace karton {

// kDefaultDrakrunConfig is where packaged services look for their configuration.
inline constexpr std::string_view kDefaultDrakrunConfig = "/etc/drakrun/config.ini";

// resolve_config_path: the explicit path when given, else $DRAKRUN_CONFIG when set, else
// kDefaultDrakrunConfig.
std::filesystem::path resolve_config_path(const std::optional<std::filesystem::path>& explicit_path,
                                          const Environment& env);

// load_service_config loads `path` (must exist) plus KARTON_<SECTION>_<OPTION> environment
// overrides in karton's dialect; `require_services` demands [redis] and [s3] (or [minio]).
// Throws ConfigError naming the file when it is missing or malformed.
Config load_service_config(const std::filesystem::path& path, bool require_services,
                           const Environment& env = current_environment());

// service_settings derives Redis, S3 and logging settings. Throws ConfigError (missing
// keys, bad values) — the message names the section and option.
ServiceSettings service_settings(const Config& cfg, const Environment& env = current_environment());

}  // namespace karton
