// system/system_log.hpp — karton.system's log records (spec §11): each record goes to stderr
// (spdlog logger "drak_system") and, when publishing is enabled, to
// PUBLISH karton.log.<level>.karton.system <record JSON> — either at once, or as a command
// appended to the caller's pipeline/transaction so per-task lines cost no extra round trip.
#pragma once

#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "karton/backend.hpp"
#include "karton/log_publisher.hpp"
#include "util/clock.hpp"

namespace drak_system {

using Command = std::vector<std::string>;

// SystemLog formats records as karton.system. Not thread-safe (one per Backend).
class SystemLog {
  public:
    // `backend` and `clock` must outlive the object. `publish` = [logging] enable_publish;
    // records below `min_level` are dropped (locally and on Redis).
    SystemLog(karton::Backend& backend, util::Clock& clock, bool publish,
              karton::LogLevel min_level);

    // log writes locally and publishes now (a Redis failure is logged locally, not thrown).
    void log(karton::LogLevel level, const std::string& message,
             const std::optional<karton::ExceptionInfo>& exc = std::nullopt,
             const std::source_location& where = std::source_location::current());

    // deferred writes locally and appends the PUBLISH command to `out` (nothing when
    // publishing is off or the level is filtered).
    void deferred(std::vector<Command>& out, karton::LogLevel level, const std::string& message,
                  const std::source_location& where = std::source_location::current());

    bool enabled(karton::LogLevel level) const { return level >= min_level_; }
    // publishing is [logging] enable_publish.
    bool publishing() const { return publish_; }

  private:
    void local(karton::LogLevel level, const std::string& message) const;

    karton::Backend& backend_;
    karton::LogPublisher publisher_;
    bool publish_;
    karton::LogLevel min_level_;
};

}  // namespace drak_system
