// karton/log_publisher.hpp — karton's Redis log handler: builds log records in the exact
// shape of spec §11.2 (logs.jsonl: insertion-ordered keys, task_id/task context, exception
// fields) and PUBLISHes them on karton.log.<level>.<identity> (§11.1); mirrors to spdlog.
#pragma once

#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "karton/backend.hpp"
#include "util/clock.hpp"

namespace karton {

// LogLevel mirrors Python's logging levels (levelno 10..50).
enum class LogLevel { Debug = 10, Info = 20, Warning = 30, Error = 40, Critical = 50 };

// level_name returns "DEBUG", "INFO", "WARNING", "ERROR" or "CRITICAL".
const char* level_name(LogLevel l);

// ExceptionInfo is a failure rendered the Python way (spec §5.3): `traceback` is the list of
// lines ("Traceback (most recent call last):\n", frames..., "<Type>: <value>\n").
struct ExceptionInfo {
    std::string type;
    std::string value;
    std::vector<std::string> traceback;
};

// exception_info renders the exception currently being handled (call inside a catch block)
// as a Python-style traceback with one frame naming `where` (file, line, function).
// Works for any exception type; non-std exceptions get type "UnknownException".
ExceptionInfo current_exception_info(
    const std::source_location& where = std::source_location::current());

// LogPublisher formats and publishes log records for one service identity. Not thread-safe.
class LogPublisher {
  public:
    // `backend` must outlive the publisher. `enabled` = false keeps local logging only
    // (debug mode or [logging] enable_publish = false, §11.1). `min_level` filters records.
    LogPublisher(Backend& backend, std::string identity, util::Clock& clock, bool enabled = true,
                 LogLevel min_level = LogLevel::Info, std::string hostname = "");

    // set_task attaches the task being processed: records get task_id = `short_id` and
    // task = `task_json` (§11.2). clear_task returns to "(no task)".
    void set_task(std::string short_id, std::string task_json);
    void clear_task();

    // record builds the JSON text of one record (no I/O); exposed for tests.
    std::string record(LogLevel level, const std::string& message,
                       const std::optional<ExceptionInfo>& exc, const std::source_location& where);

    // log writes the record to stderr (spdlog logger "karton") and publishes it. A Redis
    // failure while publishing is logged locally and swallowed (logging must never crash the
    // service); 0 subscribers is only a local debug note.
    void log(LogLevel level, const std::string& message,
             const std::optional<ExceptionInfo>& exc = std::nullopt,
             const std::source_location& where = std::source_location::current());
    void info(const std::string& message,
              const std::source_location& where = std::source_location::current()) {
        log(LogLevel::Info, message, std::nullopt, where);
    }
    void warning(const std::string& message,
                 const std::source_location& where = std::source_location::current()) {
        log(LogLevel::Warning, message, std::nullopt, where);
    }
    void error(const std::string& message, const std::optional<ExceptionInfo>& exc = std::nullopt,
               const std::source_location& where = std::source_location::current()) {
        log(LogLevel::Error, message, exc, where);
    }

    const std::string& identity() const { return identity_; }

  private:
    Backend& backend_;
    std::string identity_;
    util::Clock& clock_;
    bool enabled_;
    LogLevel min_level_;
    std::string hostname_;
    std::optional<std::string> task_id_;
    std::optional<std::string> task_json_;
};

}  // namespace karton
