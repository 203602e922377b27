// postprocess/split.hpp — split_drakmon_log: drakmon.log → <plugin>.log re-encoded like
// Python json.dumps, bad lines → parse_errors.log (spec/drakvuf-output.md §8.1).
// Streaming: memory is bounded by Options::max_line_bytes plus per-plugin write buffers.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "postprocess/postprocess.hpp"

namespace postprocess {

// Splits `log` into `out_dir`/<plugin>.log and `out_dir`/parse_errors.log. Existing outputs
// are replaced (never followed if they are symlinks); a stale parse_errors.log is removed.
// Does not delete `log`.
// Throws util::SystemError on I/O failure.
SplitStats split_log_file(const std::filesystem::path& log, const std::filesystem::path& out_dir,
                          const Options& options);

// Maps a decoded Plugin value to a safe file stem: [A-Za-z0-9_-]{1,64}, not one of our own
// output stems (drakmon, parse_errors); anything else becomes "unknown".
std::string sanitize_plugin_name(std::string_view plugin);

// Attribution of a line that failed to parse: first match of "Plugin"\s*:\s*"(\w+)" anywhere
// in the raw bytes (upstream anchors it at the start and never matches), sanitized;
// "unknown" if absent.
std::string attribute_failed_line(std::string_view raw_line);

}  // namespace postprocess
