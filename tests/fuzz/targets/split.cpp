// Fuzz target split: postprocess::split_log_file on a drakmon.log made of the input
// (spec drakvuf-output.md §8.1). Invariant: every input line is accounted for (written to a
// plugin log or to parse_errors.log) and only [A-Za-z0-9_-] file names are produced.
#include <filesystem>

#include "postprocess/split.hpp"
#include "targets.hpp"
#include "util/fs.hpp"

namespace fuzz {

int fuzz_split(const std::uint8_t* data, std::size_t size) {
    static util::TempDir dir("fuzz-split");
    const auto log = dir.path() / "drakmon.log";
    const auto out = dir.path() / "out";
    std::filesystem::remove_all(out);
    std::filesystem::create_directories(out);
    util::write_file_atomic(log, as_text(data, size));
    postprocess::Options opts;
    opts.keep_drakmon_log = true;
    opts.max_line_bytes = 4096;  // exercise the long-line path with small inputs
    opts.max_plugins = 8;
    const postprocess::SplitStats stats = postprocess::split_log_file(log, out, opts);
    check(stats.bytes_read == size, "split: bytes_read != input size");
    for (const auto& entry : std::filesystem::directory_iterator(out)) {
        const std::string name = entry.path().filename().string();
        check(name.size() > 4 && name.size() <= 64 + 4 && name.ends_with(".log"),
              "split: unexpected output file name");
        for (char c : name.substr(0, name.size() - 4)) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '_' || c == '-';
            check(ok, "split: unsafe character in output file name");
        }
    }
    return 0;
}

}  // namespace fuzz
