// karton/internal/redis_keys.hpp — Redis key and channel names used by the backend (spec
// §2.2, §10 consume order, §11.1 log channels). Internal: the public names API is the model's
// karton/names.hpp; these stay private so the two never collide.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karton {

// Metric names the hash `karton.metrics.<name>` (§2.2).
enum class Metric { Produced, Assigned, Consumed, Crashed, GarbageCollected };

namespace internal::redis_keys {
inline constexpr std::string_view kTasksQueue = "karton.tasks";
inline constexpr std::string_view kBinds = "karton.binds";
inline constexpr std::string_view kOperations = "karton.operations";
// task_key returns "karton.task:<uid>".
std::string task_key(std::string_view uid);
// queue_key returns "karton.queue.<priority>:<identity>" (priority "high"/"normal"/"low").
std::string queue_key(std::string_view priority, std::string_view identity);
// consume_order returns the BLPOP key order of §10: bare legacy queue, then high, normal, low.
std::vector<std::string> consume_order(std::string_view identity);
// metric_key returns "karton.metrics.<produced|assigned|consumed|crashed|garbage-collected>".
std::string metric_key(Metric m);
// log_channel returns "karton.log.<level lower-cased>.<logger>" (§11.1).
std::string log_channel(std::string_view level, std::string_view logger);
}  // namespace internal::redis_keys
}  // namespace karton
