// postprocess/log_index.hpp — index_logs: byte-offset markers per chunk for every *.log
// (spec/drakvuf-output.md §8.3, including the off-by-one `line` quirk, reproduced as is).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace postprocess {

// Index text {"markers": [...], "num_lines": N, "chunk_size": C} of the bytes in `data`.
std::string index_bytes(std::string_view data, uint64_t chunk_size);

// Same, streaming over a file (constant memory). Throws util::SystemError.
std::string index_log_file(const std::filesystem::path& log, uint64_t chunk_size);

// Writes dir/index/<name>.log.json for every regular *.log directly in `dir` (symlinks are
// skipped). Returns the number of indexes written. Throws util::SystemError.
size_t index_logs(const std::filesystem::path& dir, uint64_t chunk_size);

}  // namespace postprocess
