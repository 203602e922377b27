// Tests for postprocess/apicall.hpp (spec §8.4) against the DS 0.19a1 apicall goldens.
#include "postprocess/apicall.hpp"

#include <gtest/gtest.h>

#include "support/paths.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace {
const fs::path kCapa = test_support::shared_dir() / "fixtures/drakvuf/capa-testfiles-93b2d184";
}

TEST(Apicall, MatchesGoldens) {
    util::TempDir tmp("post-apicall");
    auto stats = postprocess::process_apimon_log(kCapa / "apimon.jsonl", tmp.path() / "apicall");
    std::vector<std::string> got;
    for (const auto& e : fs::directory_iterator(tmp.path() / "apicall")) {
        got.push_back(e.path().filename().string());
    }
    std::sort(got.begin(), got.end());
    std::vector<std::string> want;
    for (const auto& e : fs::directory_iterator(kCapa / "expected-v0.19.0-alpha1/apicall")) {
        want.push_back(e.path().filename().string());
    }
    std::sort(want.begin(), want.end());
    ASSERT_EQ(got, want);
    EXPECT_EQ(want.size(), 5u);
    for (const auto& name : want) {
        EXPECT_EQ(util::read_file(tmp.path() / "apicall" / name),
                  util::read_file(kCapa / "expected-v0.19.0-alpha1/apicall" / name))
            << name;
    }
    EXPECT_EQ(stats.calls, 284u);
    EXPECT_EQ(stats.processes, 5u);
}

TEST(Apicall, MissingArgumentsBecomeEmptyListAndBadPidsAreSkipped) {
    int64_t pid = 0;
    auto line = postprocess::apicall_line(
        R"({"Plugin":"apimon","TimeStamp":"1.5","PID":12,"Method":"GetTickCount",)"
        R"("Event":"api_called","ReturnValue":"0x1"})",
        pid);
    ASSERT_TRUE(line.has_value());
    EXPECT_EQ(pid, 12);
    EXPECT_EQ(*line, R"({"pid": 12, "timestamp": "1.5", "method": "GetTickCount", )"
                     R"("arguments": [], "returnvalue": "0x1"})");
    EXPECT_FALSE(postprocess::apicall_line(R"({"Event":"api_called","PID":"../1"})", pid));
    EXPECT_FALSE(postprocess::apicall_line(R"({"Event":"api_called","PID":-1})", pid));
    EXPECT_FALSE(postprocess::apicall_line(R"({"Event":"dll_loaded","PID":1})", pid));
    EXPECT_FALSE(postprocess::apicall_line("not json", pid));
}

TEST(Apicall, ManyPidsFlushAndAppend) {
    util::TempDir tmp("post-apicall");
    std::string log;
    for (int i = 0; i < 3000; ++i) {
        log += R"({"Event":"api_called","PID":)" + std::to_string(i % 300) +
               R"(,"TimeStamp":"1","Method":"M","Arguments":[")" + std::string(8000, 'x') +
               R"("],"ReturnValue":"0x0"})" + "\n";
    }
    util::write_file_atomic(tmp.path() / "apimon.log", log);
    auto stats = postprocess::process_apimon_log(tmp.path() / "apimon.log", tmp.path() / "apicall");
    EXPECT_EQ(stats.processes, 300u);
    const auto one = util::read_file(tmp.path() / "apicall" / "7.json");
    EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 10);
}

TEST(Apicall, EscapedEventValueIsStillRecognised) {
    int64_t pid = 0;
    EXPECT_TRUE(postprocess::apicall_line(
        R"({"Event":"api_calle\u0064","PID":3,"Method":"M","ReturnValue":"0x0"})", pid));
    EXPECT_EQ(pid, 3);
}
