// Replays every file of tests/fuzz/corpus/<target>/ (seeds and regressions/) through the
// target's entry function (tests/fuzz/targets/targets.hpp) in the regular build, so the corpus
// and every crash ever found are re-checked by each ctest run (issue 10).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/paths.hpp"
#include "targets.hpp"
#include "util/fs.hpp"

namespace {

class CorpusReplay : public ::testing::TestWithParam<fuzz::Target> {};

TEST_P(CorpusReplay, EveryCorpusFileRunsClean) {
    const fuzz::Target t = GetParam();
    const auto dir = test_support::source_dir() / "tests/fuzz/corpus" / t.name;
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << "missing corpus " << dir;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 3u) << "corpus of " << t.name << " has fewer than 3 seeds";
    for (const auto& f : files) {
        SCOPED_TRACE(f.string());
        const std::string bytes = util::read_file(f);
        EXPECT_EQ(t.fn(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
    }
    // The empty input and a lone byte are every parser's first edge case.
    EXPECT_EQ(t.fn(nullptr, 0), 0);
    const std::uint8_t one = 0xff;
    EXPECT_EQ(t.fn(&one, 1), 0);
    std::printf("replay %s: %zu corpus inputs, crashes = 0\n", t.name, files.size());
}

INSTANTIATE_TEST_SUITE_P(Targets, CorpusReplay, ::testing::ValuesIn(fuzz::kTargets),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
