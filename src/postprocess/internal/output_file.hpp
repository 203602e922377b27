// postprocess/internal/output_file.hpp — buffered output file that never follows symlinks:
// the single writer used by every postprocess step for its text outputs (style rule 11).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/fs.hpp"

namespace postprocess::internal {

class OutputFile {
  public:
    // Replaces `path`: an existing entry (file or symlink) is unlinked first, then the file is
    // created with O_EXCL|O_NOFOLLOW, so a planted symlink can never redirect the write.
    // Throws util::SystemError.
    explicit OutputFile(const std::filesystem::path& path, size_t buffer_bytes = 256 * 1024);
    ~OutputFile();  // flushes; errors during destruction are logged, not thrown
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void append(std::string_view data);
    // Flushes and closes; throws util::SystemError on write failure.
    void close();

  private:
    void flush();
    std::filesystem::path path_;
    util::UniqueFd fd_;
    std::string buf_;
    size_t limit_;
};

// Writes `data` to `path` via OutputFile (replace semantics, no symlink following).
void write_output(const std::filesystem::path& path, std::string_view data);

}  // namespace postprocess::internal

namespace postprocess::internal {
// Appends `data` to an existing regular file (O_APPEND|O_NOFOLLOW). Throws util::SystemError.
void append_to_file(const std::filesystem::path& path, std::string_view data);
}  // namespace postprocess::internal
