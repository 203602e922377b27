// system/settings.cpp — [system] options and karton.system connection settings (spec §1.6).
#include "system/settings.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "karton/names.hpp"
#include "karton/redis.hpp"

namespace drak_system {

namespace {

std::int64_t non_negative(const karton::Config& cfg, const char* option, std::int64_t fallback) {
    const std::int64_t v = cfg.get_int("system", option, fallback);
    if (v < 0) {
        throw karton::ConfigError("[system] " + std::string(option) + " must not be negative (" +
                                  cfg.origin("system", option) + ")");
    }
    return v;
}

karton::LogLevel parse_level(const std::string& text) {
    std::string up;
    for (char c : text) {
        up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (up == "DEBUG") {
        return karton::LogLevel::Debug;
    }
    if (up == "INFO") {
        return karton::LogLevel::Info;
    }
    if (up == "WARNING" || up == "WARN") {
        return karton::LogLevel::Warning;
    }
    if (up == "ERROR") {
        return karton::LogLevel::Error;
    }
    if (up == "CRITICAL" || up == "FATAL") {
        return karton::LogLevel::Critical;
    }
    if (auto n = karton::parse_python_int(text)) {
        if (*n <= 10) {
            return karton::LogLevel::Debug;
        }
        if (*n <= 20) {
            return karton::LogLevel::Info;
        }
        if (*n <= 30) {
            return karton::LogLevel::Warning;
        }
        if (*n <= 40) {
            return karton::LogLevel::Error;
        }
        return karton::LogLevel::Critical;
    }
    throw karton::ConfigError("[logging] level: unknown level '" + text + "'");
}

}  // namespace

SystemConfig system_config(const karton::Config& cfg) {
    SystemConfig c;
    c.gc_interval = non_negative(cfg, "gc_interval", c.gc_interval);
    c.timeouts.task_dispatched_timeout = static_cast<double>(
        non_negative(cfg, "task_dispatched_timeout",
                     static_cast<std::int64_t>(c.timeouts.task_dispatched_timeout)));
    c.timeouts.task_started_timeout = static_cast<double>(non_negative(
        cfg, "task_started_timeout", static_cast<std::int64_t>(c.timeouts.task_started_timeout)));
    c.timeouts.task_crashed_timeout = static_cast<double>(non_negative(
        cfg, "task_crashed_timeout", static_cast<std::int64_t>(c.timeouts.task_crashed_timeout)));
    c.timeouts.crash_started_tasks_on_timeout =
        cfg.get_bool("system", "crash_started_tasks_on_timeout", false);
    c.enable_gc = cfg.get_bool("system", "enable_gc", true);
    c.enable_router = cfg.get_bool("system", "enable_router", true);
    c.enable_null_version_deletion = cfg.get_bool("system", "enable_null_version_deletion", false);
    c.enable_task_tracking = cfg.get_bool("system", "enable_task_tracking", true);
    c.task_tracking_ttl = non_negative(cfg, "task_tracking_ttl", c.task_tracking_ttl);
    c.instance = cfg.get_string("system", "instance", c.instance);
    if (c.instance.empty() || c.instance.size() > 200 ||
        !std::all_of(c.instance.begin(), c.instance.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ||
                   ch == '.';
        })) {
        throw karton::ConfigError("[system] instance must be 1-200 characters of [A-Za-z0-9._-]");
    }
    const std::int64_t batch =
        cfg.get_int("system", "router_batch", static_cast<std::int64_t>(c.router_batch));
    if (batch < 1 || batch > 5000) {
        throw karton::ConfigError("[system] router_batch must be within 1..5000");
    }
    c.router_batch = static_cast<std::size_t>(batch);
    const std::int64_t poll = cfg.get_int("system", "poll_timeout", c.poll_timeout);
    if (poll < 1 || poll > 60) {
        throw karton::ConfigError("[system] poll_timeout must be within 1..60 seconds");
    }
    c.poll_timeout = static_cast<int>(poll);
    const std::int64_t scan =
        cfg.get_int("system", "gc_scan_count", static_cast<std::int64_t>(c.gc_scan_count));
    if (scan < 1 || scan > 100000) {
        throw karton::ConfigError("[system] gc_scan_count must be within 1..100000");
    }
    c.gc_scan_count = static_cast<std::size_t>(scan);
    c.task_stranded_grace = non_negative(cfg, "task_stranded_grace", c.task_stranded_grace);
    return c;
}

karton::ServiceSettings service_settings(const karton::Config& cfg,
                                         const karton::Environment& env) {
    karton::ServiceSettings s;
    const karton::RedisConfig rc = karton::redis_config(cfg);
    if (rc.url) {
        s.redis.apply_url(*rc.url);
    } else {
        s.redis.host = rc.host;
        s.redis.port = rc.port;
        s.redis.db = rc.db;
        s.redis.ssl = rc.ssl;
    }
    // Credentials embedded in the URL win (§1.6).
    if (!s.redis.username) {
        s.redis.username = rc.username;
    }
    if (!s.redis.password) {
        s.redis.password = rc.password;
    }
    s.redis.socket_timeout = rc.socket_timeout
                                 ? std::chrono::milliseconds(*rc.socket_timeout * 1000)
                                 : std::chrono::milliseconds(0);
    s.redis.client_name =
        karton::names::format_client_name(kSystemIdentity, kSystemVersion, kSystemVersion);

    const karton::S3Config sc = karton::s3_config(cfg, env);
    s.s3.endpoint = sc.address;
    s.s3.access_key = sc.access_key.value_or("");
    s.s3.secret_key = sc.secret_key.value_or("");
    if (!sc.bucket || sc.bucket->empty()) {
        throw karton::ConfigError("[s3] bucket is required by drak-system (karton-system)");
    }
    s.bucket = *sc.bucket;
    s.enable_publish = cfg.get_bool("logging", "enable_publish", true);
    if (auto level = cfg.get("logging", "level")) {
        s.log_level = parse_level(*level);
    }
    return s;
}

}  // namespace drak_system
