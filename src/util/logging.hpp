// util/logging.hpp — spdlog set-up: logs go to stderr (stdout is for data, style rule 11),
// one named logger per library ("karton", "s3", "engine", ...).
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace util {

// logger returns (creating on first use) the stderr logger called `name`.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

// set_log_level applies a level name (trace/debug/info/warning/error/critical) or a Python
// numeric level ("10", "20", ...) to every logger; throws util::InputError on an unknown name.
void set_log_level(const std::string& level);

}  // namespace util
