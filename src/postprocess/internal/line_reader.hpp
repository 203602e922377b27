// postprocess/internal/line_reader.hpp — streaming '\n' line reader with bounded memory
// (spec/drakvuf-output.md §1.1 framing: truncated last lines, huge lines, 0-byte files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace postprocess::internal {

struct LineCallbacks {
    // A complete line (without '\n'); had_newline is false only for a truncated last line.
    std::function<void(std::string_view line, bool had_newline)> on_line;
    // A line longer than max_line_bytes, delivered in pieces (first piece has first == true,
    // the final one last == true; had_newline tells whether it ended with '\n').
    std::function<void(std::string_view piece, bool first, bool last, bool had_newline)>
        on_oversize;
};

// Reads `path` sequentially in chunks and calls back per line. Memory is bounded by
// chunk + max_line_bytes. Throws util::SystemError if the file cannot be opened or read.
// Returns the number of bytes read.
uint64_t for_each_line(const std::filesystem::path& path, uint64_t max_line_bytes,
                       const LineCallbacks& callbacks);

}  // namespace postprocess::internal
