#include "drakrun/settings.hpp"

#include <sstream>

#include "karton/errors.hpp"

namespace drakrun {

namespace json = karton::json;

namespace {

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto b = item.find_first_not_of(" \t\n");
        auto e = item.find_last_not_of(" \t\n");
        if (b != std::string::npos) {
            out.push_back(item.substr(b, e - b + 1));
        }
    }
    return out;
}

json::Value parse_json_option(const karton::Config& cfg, const char* option, bool want_list) {
    auto text = cfg.get("drakrun", option);
    if (!text) {
        return nullptr;
    }
    json::Value v;
    try {
        v = json::parse(*text);
    } catch (const json::JsonError& e) {
        throw karton::ConfigError("[drakrun] " + std::string(option) +
                                  " is not valid JSON: " + e.what());
    }
    if (want_list ? !v.is_array() : !v.is_object()) {
        throw karton::ConfigError("[drakrun] " + std::string(option) + " must be a JSON " +
                                  (want_list ? "list of filter objects" : "object"));
    }
    return v;
}

int get_seconds(const karton::Config& cfg, const char* option, int fallback) {
    auto v = cfg.get_int("drakrun", option, fallback);
    if (v <= 0 || v > 86400) {
        throw karton::ConfigError("[drakrun] " + std::string(option) +
                                  " must be between 1 and 86400 seconds");
    }
    return static_cast<int>(v);
}

}  // namespace

WorkerSettings worker_settings(const karton::Config& cfg) {
    WorkerSettings s;
    s.identity = cfg.get_string("drakrun", "identity", s.identity);
    s.filters = parse_json_option(cfg, "filters", true);
    if (auto h = parse_json_option(cfg, "headers", false); !h.is_null()) {
        s.headers = h.as_object();
    }
    s.sample_testing = cfg.get_bool("drakrun", "sample_testing", false);
    s.test_filters = parse_json_option(cfg, "test_filters", true);
    if (auto h = parse_json_option(cfg, "test_headers", false); !h.is_null()) {
        s.test_headers = h.as_object();
    }
    s.engine = cfg.get_string("drakrun", "engine", s.engine);
    if (s.engine != "native" && s.engine != "xen") {
        throw karton::ConfigError("[drakrun] engine must be 'native' or 'xen', got '" + s.engine +
                                  "'");
    }
    s.artifacts_bucket = cfg.get_string("drakrun", "artifacts_bucket", s.artifacts_bucket);
    s.analysis_timeout = get_seconds(cfg, "analysis_timeout", s.analysis_timeout);
    s.analysis_low_timeout = get_seconds(cfg, "analysis_low_timeout", s.analysis_low_timeout);
    s.max_timeout = get_seconds(cfg, "max_timeout", s.max_timeout);
    if (s.max_timeout > WorkerSettings::kHardMaxTimeout) {
        throw karton::ConfigError("[drakrun] max_timeout may only lower the hard cap of " +
                                  std::to_string(WorkerSettings::kHardMaxTimeout) + " s");
    }
    if (auto p = cfg.get("drakrun", "plugins")) {
        s.plugins = split_list(*p);
    }
    if (auto p = cfg.get("drakrun", "plugins_low")) {
        s.plugins_low = split_list(*p);
    }
    s.use_root_uid = cfg.get_bool("drakrun", "use_root_uid", false);
    auto attempts = cfg.get_int("drakrun", "attempts", s.attempts);
    if (attempts < 1 || attempts > 10) {
        throw karton::ConfigError("[drakrun] attempts must be between 1 and 10");
    }
    s.attempts = static_cast<int>(attempts);
    s.work_dir = cfg.get_string("drakrun", "work_dir", s.work_dir);
    auto dumps =
        cfg.get_int("drakrun", "dumps_max_size", static_cast<std::int64_t>(s.dumps_max_size));
    if (dumps < 0) {
        throw karton::ConfigError("[drakrun] dumps_max_size must not be negative");
    }
    s.dumps_max_size = static_cast<std::uint64_t>(dumps);
    auto max_sample =
        cfg.get_int("drakrun", "max_sample_size", static_cast<std::int64_t>(s.max_sample_size));
    if (max_sample <= 0 ||
        static_cast<std::uint64_t>(max_sample) > WorkerSettings::kHardMaxSampleSize) {
        throw karton::ConfigError("[drakrun] max_sample_size must be between 1 and " +
                                  std::to_string(WorkerSettings::kHardMaxSampleSize) + " bytes");
    }
    s.max_sample_size = static_cast<std::uint64_t>(max_sample);
    return s;
}

engine::EngineOptions engine_options(const karton::Config& cfg, const std::string& engine) {
    engine::EngineOptions out;
    if (const auto* section = cfg.section(engine)) {
        for (const auto& [k, v] : *section) {
            out[k] = v;
        }
    }
    return out;
}

}  // namespace drakrun
