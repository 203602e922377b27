// Tests for postprocess/split.hpp (spec §8.1): real fixture round trip, malformed input,
// hostile plugin names, truncated/empty/huge lines.
#include "postprocess/split.hpp"

#include "postprocess/log_index.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "support/paths.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using postprocess::Options;
using postprocess::split_log_file;

namespace {

const fs::path kCapa = test_support::shared_dir() / "fixtures/drakvuf/capa-testfiles-93b2d184";

std::string capa_drakmon_log() {
    // The original capa file: apimon, syscall, sysret, procmon, inject; no final newline.
    std::string all;
    for (const char* p : {"apimon", "syscall", "sysret", "procmon", "inject"}) {
        all += util::read_file(kCapa / (std::string(p) + ".jsonl"));
    }
    all.pop_back();
    return all;
}

std::vector<std::string> list_dir(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST(Split, CapaFixtureRoundTripsByteForByte) {
    util::TempDir tmp("post-split");
    util::write_file_atomic(tmp.path() / "drakmon.log", capa_drakmon_log());
    auto stats = split_log_file(tmp.path() / "drakmon.log", tmp.path(), Options{});
    for (const char* p : {"apimon", "syscall", "sysret", "procmon", "inject"}) {
        EXPECT_EQ(util::read_file(tmp.path() / (std::string(p) + ".log")),
                  util::read_file(kCapa / (std::string(p) + ".jsonl")))
            << p;
    }
    EXPECT_FALSE(fs::exists(tmp.path() / "parse_errors.log"));
    EXPECT_EQ(stats.lines_per_plugin.at("apimon"), 1000u);
    EXPECT_EQ(stats.lines_per_plugin.at("inject"), 1u);
    EXPECT_EQ(stats.total_errors(), 0u);
}

TEST(Split, RawDrakvufLinesAreReencoded) {
    util::TempDir tmp("post-split");
    const auto raw =
        util::read_file(test_support::shared_dir() / "fixtures/drakvuf/sandbox-docs/procmon.jsonl");
    util::write_file_atomic(tmp.path() / "drakmon.log", raw);
    split_log_file(tmp.path() / "drakmon.log", tmp.path(), Options{});
    EXPECT_EQ(util::read_file(tmp.path() / "procmon.log"),
              "{\"Plugin\": \"procmon\", \"TimeStamp\": \"1753206195.453337\", \"PID\": 4, "
              "\"PPID\": 0, \"RunningProcess\": \"System\", \"Bitness\": 64}\n"
              "{\"Plugin\": \"procmon\", \"TimeStamp\": \"1753206195.453543\", \"PID\": 92, "
              "\"PPID\": 4, \"RunningProcess\": \"Registry\", \"Bitness\": 64}\n");
}

TEST(Split, BadLinesGoRawToParseErrorsAndAreAttributedBySearch) {
    util::TempDir tmp("post-split");
    const std::string log =
        "Failed to trap return at 0x7ff\n"
        "{\"Plugin\":\"filetracer\",\"FileName\":\"a\tb\"}\n"  // raw TAB: invalid
        "{\"Plugin\":\"regmon\",\"Key\":\"\xff\xfe\"}\n"       // not UTF-8
        "\n"                                                   // blank
        "42\n"                                                 // not an object
        "  {\"Plugin\":\"regmon\",\"Key\":\"k\"}\r\n"          // valid after strip
        "{\"NoPlugin\":1}\n"                                   // valid, no Plugin
        "{\"Plugin\":\"procmon\",\"PID\":4";                   // truncated last line
    util::write_file_atomic(tmp.path() / "drakmon.log", log);
    auto stats = split_log_file(tmp.path() / "drakmon.log", tmp.path(), Options{});
    EXPECT_EQ(util::read_file(tmp.path() / "parse_errors.log"),
              "Failed to trap return at 0x7ff\n"
              "{\"Plugin\":\"filetracer\",\"FileName\":\"a\tb\"}\n"
              "{\"Plugin\":\"regmon\",\"Key\":\"\xff\xfe\"}\n"
              "\n"
              "42\n"
              "{\"Plugin\":\"procmon\",\"PID\":4\n");
    EXPECT_EQ(util::read_file(tmp.path() / "regmon.log"),
              "{\"Plugin\": \"regmon\", \"Key\": \"k\"}\n");
    EXPECT_EQ(util::read_file(tmp.path() / "unknown.log"), "{\"NoPlugin\": 1}\n");
    EXPECT_EQ(stats.errors_per_plugin.at("unknown"), 3u);  // diagnostic, blank, 42
    EXPECT_EQ(stats.errors_per_plugin.at("filetracer"), 1u);
    EXPECT_EQ(stats.errors_per_plugin.at("regmon"), 1u);
    EXPECT_EQ(stats.errors_per_plugin.at("procmon"), 1u);
    EXPECT_EQ(stats.total_errors(), 6u);
}

TEST(Split, EmptyLogProducesNothing) {
    util::TempDir tmp("post-split");
    util::write_file_atomic(tmp.path() / "drakmon.log", "");
    auto stats = split_log_file(tmp.path() / "drakmon.log", tmp.path(), Options{});
    EXPECT_EQ(list_dir(tmp.path()), std::vector<std::string>{"drakmon.log"});
    EXPECT_TRUE(stats.lines_per_plugin.empty());
    EXPECT_EQ(stats.total_errors(), 0u);
}

TEST(Split, HostilePluginNamesNeverEscapeTheDirectory) {
    util::TempDir tmp("post-split");
    fs::create_directory(tmp.path() / "out");
    const std::string log =
        "{\"Plugin\":\"../../x\"}\n"
        "{\"Plugin\":\"/etc/passwd\"}\n"
        "{\"Plugin\":\"a/b\"}\n"
        "{\"Plugin\":\"..\"}\n"
        "{\"Plugin\":\"\"}\n"
        "{\"Plugin\":7}\n"
        "{\"Plugin\":\"drakmon\"}\n"
        "{\"Plugin\":\"parse_errors\"}\n"
        "{\"Plugin\":\"x\\u0000y\"}\n"
        "{\"Plugin\":\"good_name-1\"}\n";
    util::write_file_atomic(tmp.path() / "drakmon.log", log);
    auto stats = split_log_file(tmp.path() / "drakmon.log", tmp.path() / "out", Options{});
    EXPECT_EQ(list_dir(tmp.path() / "out"),
              (std::vector<std::string>{"good_name-1.log", "unknown.log"}));
    EXPECT_EQ(stats.lines_per_plugin.at("unknown"), 9u);
    EXPECT_EQ(list_dir(tmp.path()), (std::vector<std::string>{"drakmon.log", "out"}));
    EXPECT_EQ(postprocess::sanitize_plugin_name("../../x"), "unknown");
    EXPECT_EQ(postprocess::attribute_failed_line("garbage \"Plugin\" : \"apimon\" more"), "apimon");
    EXPECT_EQ(postprocess::attribute_failed_line("\"Plugin\": \"../x\""), "unknown");
}

TEST(Split, PlantedSymlinkOutputIsReplacedNotFollowed) {
    util::TempDir tmp("post-split");
    util::write_file_atomic(tmp.path() / "victim", "keep");
    fs::create_symlink(tmp.path() / "victim", tmp.path() / "apimon.log");
    util::write_file_atomic(tmp.path() / "drakmon.log", "{\"Plugin\":\"apimon\"}\n");
    split_log_file(tmp.path() / "drakmon.log", tmp.path(), Options{});
    EXPECT_EQ(util::read_file(tmp.path() / "victim"), "keep");
    EXPECT_FALSE(fs::is_symlink(tmp.path() / "apimon.log"));
    EXPECT_EQ(util::read_file(tmp.path() / "apimon.log"), "{\"Plugin\": \"apimon\"}\n");
}

TEST(Split, PluginCountIsCapped) {
    util::TempDir tmp("post-split");
    std::string log;
    for (int i = 0; i < 20; ++i) {
        log += "{\"Plugin\":\"p" + std::to_string(i) + "\"}\n";
    }
    util::write_file_atomic(tmp.path() / "drakmon.log", log);
    Options o;
    o.max_plugins = 5;
    auto stats = split_log_file(tmp.path() / "drakmon.log", tmp.path(), o);
    EXPECT_EQ(stats.lines_per_plugin.size(), 6u);  // p0..p4 + unknown
    EXPECT_EQ(stats.lines_per_plugin.at("unknown"), 15u);
}

TEST(Split, HugeSingleLineIsStreamedToParseErrors) {
    // 100 MB on one line (no newline at all): must not be held in memory beyond max_line_bytes.
    util::TempDir tmp("post-split");
    const fs::path log = tmp.path() / "drakmon.log";
    {
        std::ofstream f(log, std::ios::binary);
        f << "{\"Plugin\":\"apimon\",\"x\":\"";
        const std::string block(1 << 20, 'A');
        for (int i = 0; i < 100; ++i) {
            f << block;
        }
        f << "\"}";
    }
    Options o;  // default max_line_bytes = 32 MiB
    auto stats = split_log_file(log, tmp.path(), o);
    EXPECT_EQ(fs::file_size(tmp.path() / "parse_errors.log"), fs::file_size(log) + 1);
    EXPECT_EQ(stats.errors_per_plugin.at("apimon"), 1u);
    EXPECT_FALSE(fs::exists(tmp.path() / "apimon.log"));
}

TEST(Split, LongValidLineUnderTheLimitIsKeptAcrossReadChunks) {
    util::TempDir tmp("post-split");
    const std::string value(3 << 20, 'v');  // spans several 1 MiB read chunks
    util::write_file_atomic(
        tmp.path() / "drakmon.log",
        "{\"Plugin\":\"a\"}\n{\"Plugin\":\"b\",\"v\":\"" + value + "\"}\n{\"Plugin\":\"a\"}");
    Options o;
    o.max_line_bytes = 1 << 20;
    auto stats = split_log_file(tmp.path() / "drakmon.log", tmp.path(), o);
    EXPECT_EQ(stats.lines_per_plugin.at("a"), 2u);
    EXPECT_EQ(stats.errors_per_plugin.at("b"), 1u);  // over the 1 MiB limit
    o.max_line_bytes = 8 << 20;
    stats = split_log_file(tmp.path() / "drakmon.log", tmp.path(), o);
    EXPECT_EQ(util::read_file(tmp.path() / "b.log"),
              "{\"Plugin\": \"b\", \"v\": \"" + value + "\"}\n");
    EXPECT_FALSE(fs::exists(tmp.path() / "parse_errors.log"));
}

TEST(Split, OnTheFlyIndexesEqualIndexesOfTheWrittenFiles) {
    util::TempDir tmp("post-split");
    std::string log = capa_drakmon_log();
    log.insert(log.find("{\"Plugin\": \"procmon\""), "garbage line\n\n");
    util::write_file_atomic(tmp.path() / "drakmon.log", log);
    Options o;
    o.index_chunk_size = 4096;
    o.max_line_bytes = 1500;  // some apimon lines become oversize errors
    auto stats = split_log_file(tmp.path() / "drakmon.log", tmp.path(), o);
    ASSERT_EQ(stats.indexes.size(), 6u);
    for (const auto& [name, index] : stats.indexes) {
        EXPECT_EQ(index.json, postprocess::index_log_file(tmp.path() / name, 4096)) << name;
        EXPECT_EQ(index.size, fs::file_size(tmp.path() / name)) << name;
    }
    EXPECT_GT(stats.total_errors(), 2u);
}
