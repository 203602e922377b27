// postprocess/apicall.hpp — process_apimon_log: apimon api_called records → apicall/<pid>.json
// (JSON Lines, one file per PID, log order) — spec/drakvuf-output.md §8.4.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace postprocess {

// The §8.4 output line (without '\n') for one apimon line, or nullopt when the line is not an
// api_called record with a non-negative integer PID. Missing Arguments ⇒ [], missing
// TimeStamp/Method/ReturnValue ⇒ null (upstream aborts the step). `pid` receives the PID.
std::optional<std::string> apicall_line(std::string_view apimon_line, int64_t& pid);

struct ApicallStats {
    uint64_t calls = 0;
    uint64_t processes = 0;
    uint64_t skipped = 0;  // api_called lines without usable PID, or unparseable lines
};

// Reads `apimon_log` and writes `out_dir`/<pid>.json (created; old files replaced).
// Memory bounded: per-PID buffers are flushed when they exceed a total budget.
// Throws util::SystemError.
ApicallStats process_apimon_log(const std::filesystem::path& apimon_log,
                                const std::filesystem::path& out_dir);

}  // namespace postprocess
