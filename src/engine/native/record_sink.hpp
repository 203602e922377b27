// engine/native/record_sink.hpp — how native-engine monitors hand DRAKVUF-format records to
// the single drakmon.log writer (style rule: one output layer; spec drakvuf-output.md §1-2).
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

namespace engine::native {

// RecordSink receives one complete DRAKVUF record (key order as DRAKVUF prints it:
// "Plugin", "TimeStamp", "PID", "PPID", "TID", "UserId", "ProcessName", "Method", "EventUID",
// then plugin fields). The writer owns serialization and line framing; callers may invoke
// the sink from several threads.
using RecordSink = std::function<void(nlohmann::ordered_json record)>;

}  // namespace engine::native
