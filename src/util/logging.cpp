#include "util/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <mutex>

#include "util/error.hpp"

namespace util {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    // shared_ptr: spdlog's registry holds the other reference.
    auto l = spdlog::stderr_color_mt(name);
    l->set_level(spdlog::get_level());
    return l;
}

void set_log_level(const std::string& level) {
    std::string l = level;
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    spdlog::level::level_enum lv;
    if (l == "trace") {
        lv = spdlog::level::trace;
    } else if (l == "debug" || l == "10") {
        lv = spdlog::level::debug;
    } else if (l == "info" || l == "20") {
        lv = spdlog::level::info;
    } else if (l == "warning" || l == "warn" || l == "30") {
        lv = spdlog::level::warn;
    } else if (l == "error" || l == "40") {
        lv = spdlog::level::err;
    } else if (l == "critical" || l == "50") {
        lv = spdlog::level::critical;
    } else {
        throw InputError("unknown log level '" + level +
                         "' (expected debug, info, warning, error or critical)");
    }
    spdlog::set_level(lv);
    spdlog::apply_all([lv](const std::shared_ptr<spdlog::logger>& lg) { lg->set_level(lv); });
}

}  // namespace util
