#include "karton/service_settings.hpp"

#include <algorithm>
#include <cctype>

#include "karton/errors.hpp"

namespace karton {

std::filesystem::path resolve_config_path(const std::optional<std::filesystem::path>& explicit_path,
                                          const Environment& env) {
    if (explicit_path && !explicit_path->empty()) {
        return *explicit_path;
    }
    if (auto it = env.find("DRAKRUN_CONFIG"); it != env.end() && !it->second.empty()) {
        return it->second;
    }
    return std::string(kDefaultDrakrunConfig);
}

Config load_service_config(const std::filesystem::path& path, bool require_services,
                           const Environment& env) {
    auto opts = Config::default_options();
    opts.search_paths.clear();  // drakrun services read exactly one file (plus environment)
    opts.path = path;
    opts.env = env;
    opts.check_sections = require_services;
    return Config::load(opts);
}

ServiceSettings service_settings(const Config& cfg, const Environment& env) {
    ServiceSettings s;
    RedisConfig rc = redis_config(cfg);
    if (rc.url) {
        s.redis.apply_url(*rc.url);
    } else {
        s.redis.host = rc.host;
        s.redis.port = rc.port;
        s.redis.db = rc.db;
        s.redis.ssl = rc.ssl;
    }
    if (rc.username && !s.redis.username) {
        s.redis.username = rc.username;
    }
    if (rc.password && !s.redis.password) {
        s.redis.password = rc.password;
    }
    s.redis.socket_timeout = std::chrono::milliseconds(
        rc.socket_timeout ? static_cast<std::int64_t>(*rc.socket_timeout) * 1000 : 0);

    S3Config sc = s3_config(cfg, env);
    if (sc.iam_auth && (!sc.access_key || !sc.secret_key)) {
        throw ConfigError(
            "[s3] iam_auth is not supported by this implementation: set access_key and "
            "secret_key");
    }
    if (!sc.access_key || !sc.secret_key) {
        throw ConfigError(
            "[s3] access_key and secret_key are required (or AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY)");
    }
    s.s3.endpoint = sc.address;
    while (!s.s3.endpoint.empty() && s.s3.endpoint.back() == '/') {
        s.s3.endpoint.pop_back();
    }
    s.s3.access_key = *sc.access_key;
    s.s3.secret_key = *sc.secret_key;
    s.bucket = sc.bucket.value_or("karton");

    s.enable_publish = cfg.get_bool("logging", "enable_publish", true);
    std::string level = cfg.get_string("logging", "level", "INFO");
    std::transform(level.begin(), level.end(), level.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (level == "DEBUG" || level == "10") {
        s.log_level = LogLevel::Debug;
    } else if (level == "INFO" || level == "20") {
        s.log_level = LogLevel::Info;
    } else if (level == "WARNING" || level == "WARN" || level == "30") {
        s.log_level = LogLevel::Warning;
    } else if (level == "ERROR" || level == "40") {
        s.log_level = LogLevel::Error;
    } else if (level == "CRITICAL" || level == "50") {
        s.log_level = LogLevel::Critical;
    } else {
        throw ConfigError("[logging] level: unknown level '" + level + "'");
    }

    s.identity = cfg.get("karton", "identity");
    if (s.identity) {
        if (s.identity->empty()) {
            throw ConfigError("[karton] identity must not be empty");
        }
    }
    s.debug = cfg.get_bool("karton", "debug", false);
    s.persistent = cfg.get_bool("karton", "persistent");
    const std::int64_t timeout = cfg.get_int("karton", "task_timeout", 0);
    // Upper bound: a week; anything larger is a typo (and would overflow timer arithmetic).
    if (timeout < 0 || timeout > 7 * 86400) {
        throw ConfigError("[karton] task_timeout must be between 0 (unlimited) and 604800 seconds");
    }
    s.task_timeout = std::chrono::seconds(timeout);
    if (s.debug) {
        s.enable_publish = false;  // §11.1: debug services do not publish logs
    }
    return s;
}

}  // namespace karton
