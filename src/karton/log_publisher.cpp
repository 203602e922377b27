#include "karton/log_publisher.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

#include "karton/json.hpp"
#include "util/logging.hpp"

namespace karton {
namespace {

std::string base_name(std::string_view path) {
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string module_name(std::string_view file) {
    std::string b = base_name(file);
    auto dot = b.rfind('.');
    return dot == std::string::npos ? b : b.substr(0, dot);
}

// bare_function turns "void karton::Consumer::loop(int)" into "loop" (Python's funcName).
std::string bare_function(std::string_view sig) {
    auto paren = sig.find('(');
    std::string_view head = sig.substr(0, paren);
    auto colon = head.rfind("::");
    if (colon != std::string_view::npos) {
        head = head.substr(colon + 2);
    }
    auto space = head.rfind(' ');
    if (space != std::string_view::npos) {
        head = head.substr(space + 1);
    }
    return std::string(head);
}

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
    return status == 0 && d ? std::string(d.get()) : std::string(name);
}

std::string local_hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "unknown";
    }
    return buf;
}

spdlog::level::level_enum spd_level(LogLevel l) {
    switch (l) {
        case LogLevel::Debug:
            return spdlog::level::debug;
        case LogLevel::Info:
            return spdlog::level::info;
        case LogLevel::Warning:
            return spdlog::level::warn;
        case LogLevel::Error:
            return spdlog::level::err;
        case LogLevel::Critical:
            return spdlog::level::critical;
    }
    return spdlog::level::info;
}

}  // namespace

const char* level_name(LogLevel l) {
    switch (l) {
        case LogLevel::Debug:
            return "DEBUG";
        case LogLevel::Info:
            return "INFO";
        case LogLevel::Warning:
            return "WARNING";
        case LogLevel::Error:
            return "ERROR";
        case LogLevel::Critical:
            return "CRITICAL";
    }
    return "INFO";
}

ExceptionInfo current_exception_info(const std::source_location& where) {
    ExceptionInfo info;
    try {
        throw;
    } catch (const std::exception& e) {
        info.type = demangle(typeid(e).name());
        info.value = e.what();
    } catch (...) {
        info.type = "UnknownException";
        info.value = "non-standard exception";
    }
    info.traceback.push_back("Traceback (most recent call last):\n");
    info.traceback.push_back("  File \"" + std::string(where.file_name()) + "\", line " +
                             std::to_string(where.line()) + ", in " +
                             bare_function(where.function_name()) + "\n");
    info.traceback.push_back(info.type + ": " + info.value + "\n");
    return info;
}

LogPublisher::LogPublisher(Backend& backend, std::string identity, util::Clock& clock, bool enabled,
                           LogLevel min_level, std::string hostname)
    : backend_(backend),
      identity_(std::move(identity)),
      clock_(clock),
      enabled_(enabled),
      min_level_(min_level),
      hostname_(hostname.empty() ? local_hostname() : std::move(hostname)) {}

void LogPublisher::set_task(std::string short_id, std::string task_json) {
    task_id_ = std::move(short_id);
    task_json_ = std::move(task_json);
}

void LogPublisher::clear_task() {
    task_id_.reset();
    task_json_.reset();
}

std::string LogPublisher::record(LogLevel level, const std::string& message,
                                 const std::optional<ExceptionInfo>& exc,
                                 const std::source_location& where) {
    json::Object r;
    r.set("name", identity_);
    r.set("levelname", level_name(level));
    r.set("levelno", static_cast<int>(level));
    r.set("filename", base_name(where.file_name()));
    r.set("module", module_name(where.file_name()));
    r.set("lineno", static_cast<long long>(where.line()));
    r.set("funcName", bare_function(where.function_name()));
    r.set("created", clock_.now());
    r.set("task_id", task_id_ ? *task_id_ : std::string("(no task)"));
    if (exc) {
        std::string text;
        for (const auto& l : exc->traceback) {
            text += l;
        }
        if (!text.empty() && text.back() == '\n') {
            text.pop_back();  // Python's formatException strips the final newline
        }
        r.set("message", message + "\n" + text);
        r.set("excText", text);
        r.set("excValue", exc->value);
        json::Array tb;
        for (const auto& l : exc->traceback) {
            tb.emplace_back(l);
        }
        r.set("excTraceback", std::move(tb));
        r.set("excType", exc->type);
    } else {
        r.set("message", message);
    }
    r.set("type", "log");
    if (task_json_) {
        r.set("task", *task_json_);
    }
    r.set("hostname", hostname_);
    return json::dump(json::Value(std::move(r)), json::DumpOptions{.sort_keys = false});
}

void LogPublisher::log(LogLevel level, const std::string& message,
                       const std::optional<ExceptionInfo>& exc, const std::source_location& where) {
    if (level < min_level_) {
        return;
    }
    auto local = util::logger("karton");
    if (exc) {
        local->log(spd_level(level), "[{}] {}: {}: {}", identity_, message, exc->type, exc->value);
    } else {
        local->log(spd_level(level), "[{}] {}", identity_, message);
    }
    if (!enabled_) {
        return;
    }
    try {
        const auto receivers =
            backend_.publish_log(level_name(level), identity_, record(level, message, exc, where));
        if (receivers == 0) {
            local->debug("log record published to karton.log.* but nobody is subscribed");
        }
    } catch (const RedisError& e) {
        local->warn("could not publish log record: {}", e.what());
    }
}

}  // namespace karton
