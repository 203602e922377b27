// postprocess/log_index.hpp — index_logs: byte-offset markers per chunk for every *.log
// (spec/drakvuf-output.md §8.3, including the off-by-one `line` quirk, reproduced as is).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace postprocess {

// Incremental §8.3 indexer: feed the byte length of every line (including its '\n'; the
// unterminated last line without one) in file order.
class LogIndexer {
  public:
    explicit LogIndexer(uint64_t chunk_size);
    void add_line(uint64_t bytes);
    uint64_t bytes() const { return offset_; }
    // The index JSON text for the lines fed so far.
    std::string json() const;

  private:
    uint64_t chunk_size_;
    uint64_t chunk_ = 0;
    uint64_t offset_ = 0;
    uint64_t lines_ = 0;
    std::string markers_;
};

// An index computed while the log was written (by the split step), valid for `size` bytes.
struct PrecomputedIndex {
    uint64_t size = 0;
    std::string json;
};

// Index text {"markers": [...], "num_lines": N, "chunk_size": C} of the bytes in `data`.
std::string index_bytes(std::string_view data, uint64_t chunk_size);

// Same, streaming over a file (constant memory). Throws util::SystemError.
std::string index_log_file(const std::filesystem::path& log, uint64_t chunk_size);

// Writes dir/index/<name>.log.json for every regular *.log directly in `dir` (symlinks are
// skipped). A `precomputed` entry (keyed by file name) is used instead of re-reading the log
// when the file still has the recorded size. Returns the number of indexes written.
// Throws util::SystemError.
size_t index_logs(const std::filesystem::path& dir, uint64_t chunk_size,
                  const std::map<std::string, PrecomputedIndex>* precomputed = nullptr);

}  // namespace postprocess
