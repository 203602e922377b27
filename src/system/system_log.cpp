// system/system_log.cpp — karton.system log records, immediate or pipelined (spec §11).
#include "system/system_log.hpp"

#include <unistd.h>

#include <array>
#include <cctype>

#include "karton/names.hpp"
#include "system/settings.hpp"
#include "util/logging.hpp"

namespace drak_system {

namespace {

std::string host_name() {
    std::array<char, 256> buf{};
    if (::gethostname(buf.data(), buf.size() - 1) != 0) {
        return "localhost";
    }
    return std::string(buf.data());
}

std::string lower(std::string s) {
    for (char& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

}  // namespace

SystemLog::SystemLog(karton::Backend& backend, util::Clock& clock, bool publish,
                     karton::LogLevel min_level)
    : backend_(backend),
      // The publisher is only used to build records; publishing goes through backend_.
      publisher_(backend, kSystemIdentity, clock, false, karton::LogLevel::Debug, host_name()),
      publish_(publish),
      min_level_(min_level) {}

void SystemLog::local(karton::LogLevel level, const std::string& message) const {
    auto logger = util::logger("drak_system");
    switch (level) {
        case karton::LogLevel::Debug:
            logger->debug("{}", message);
            break;
        case karton::LogLevel::Info:
            logger->info("{}", message);
            break;
        case karton::LogLevel::Warning:
            logger->warn("{}", message);
            break;
        case karton::LogLevel::Error:
            logger->error("{}", message);
            break;
        case karton::LogLevel::Critical:
            logger->critical("{}", message);
            break;
    }
}

void SystemLog::log(karton::LogLevel level, const std::string& message,
                    const std::optional<karton::ExceptionInfo>& exc,
                    const std::source_location& where) {
    if (!enabled(level)) {
        return;
    }
    local(level, exc ? message + ": " + exc->type + ": " + exc->value : message);
    if (!publish_) {
        return;
    }
    try {
        backend_.publish_log(lower(karton::level_name(level)), kSystemIdentity,
                             publisher_.record(level, message, exc, where));
    } catch (const karton::RedisError& e) {
        util::logger("drak_system")->warn("could not publish log record: {}", e.what());
    }
}

void SystemLog::deferred(std::vector<Command>& out, karton::LogLevel level,
                         const std::string& message, const std::source_location& where) {
    if (!enabled(level)) {
        return;
    }
    local(level, message);
    if (!publish_) {
        return;
    }
    out.push_back({"PUBLISH",
                   karton::names::log_channel(karton::level_name(level), kSystemIdentity),
                   publisher_.record(level, message, std::nullopt, where)});
}

}  // namespace drak_system
