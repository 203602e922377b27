// Tests for postprocess/log_index.hpp (spec §8.3) against the DS 0.19a1 goldens for both the
// default chunk size and 65536.
#include "postprocess/log_index.hpp"

#include <gtest/gtest.h>

#include "support/paths.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace {
const fs::path kCapa = test_support::shared_dir() / "fixtures/drakvuf/capa-testfiles-93b2d184";
const char* kPlugins[] = {"apimon", "inject", "procmon", "syscall", "sysret"};
}  // namespace

TEST(LogIndex, MatchesGoldensForDefaultAndSmallChunks) {
    for (const auto& [chunk, golden_dir] :
         {std::pair<uint64_t, const char*>{1048576, "index"}, {65536, "index-chunk65536"}}) {
        util::TempDir tmp("post-index");
        for (const char* p : kPlugins) {
            fs::copy_file(kCapa / (std::string(p) + ".jsonl"),
                          tmp.path() / (std::string(p) + ".log"));
        }
        EXPECT_EQ(postprocess::index_logs(tmp.path(), chunk), 5u);
        for (const char* p : kPlugins) {
            const std::string name = std::string(p) + ".log.json";
            EXPECT_EQ(util::read_file(tmp.path() / "index" / name),
                      util::read_file(kCapa / "expected-v0.19.0-alpha1" / golden_dir / name))
                << golden_dir << "/" << name;
        }
    }
}

TEST(LogIndex, GoldenWithSeveralMarkersExists) {
    // Guard against a vacuous comparison: the 64 KiB golden for apimon has several markers.
    const auto text =
        util::read_file(kCapa / "expected-v0.19.0-alpha1/index-chunk65536/apimon.log.json");
    EXPECT_NE(text.find("{\"line\": 0, \"offset\": 0}, {\"line\": "), std::string::npos);
}

TEST(LogIndex, QuirksEmptyAndUnterminated) {
    EXPECT_EQ(postprocess::index_bytes("", 10),
              R"({"markers": [{"line": 0, "offset": 0}], "num_lines": 0, "chunk_size": 10})");
    // Lines of 4 bytes each with chunk 10: k=3 makes chunk 8+4 >= 10 → marker {3, 8}.
    EXPECT_EQ(postprocess::index_bytes("aaa\nbbb\nccc\nddd", 10),
              R"({"markers": [{"line": 0, "offset": 0}, {"line": 3, "offset": 8}], )"
              R"("num_lines": 4, "chunk_size": 10})");
    // A single line larger than the chunk gets a marker at itself.
    EXPECT_EQ(postprocess::index_bytes("0123456789abc\n", 10),
              R"({"markers": [{"line": 0, "offset": 0}, {"line": 1, "offset": 0}], )"
              R"("num_lines": 1, "chunk_size": 10})");
}

TEST(LogIndex, SymlinkedLogsAreNotIndexed) {
    util::TempDir tmp("post-index");
    util::write_file_atomic(tmp.path() / "real.log", "x\n");
    fs::create_symlink("/etc/hostname", tmp.path() / "evil.log");
    EXPECT_EQ(postprocess::index_logs(tmp.path(), 1048576), 1u);
    EXPECT_FALSE(fs::exists(tmp.path() / "index" / "evil.log.json"));
}
