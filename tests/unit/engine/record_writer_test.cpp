// Tests for engine/native/record_writer: framing, encodings and concurrency (spec §1).
#include "engine/native/record_writer.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::vector<std::string> out;
    std::string data = util::read_file(p);
    std::size_t start = 0;
    while (start < data.size()) {
        auto nl = data.find('\n', start);
        EXPECT_NE(nl, std::string::npos) << "last line not terminated";
        if (nl == std::string::npos) {
            break;
        }
        out.push_back(data.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

TEST(RecordWriter, FormatsTimestampAndHex) {
    EXPECT_EQ(format_timestamp(1753206195.453337), "1753206195.453337");
    EXPECT_EQ(format_timestamp(1700000000.0), "1700000000.000000");
    EXPECT_EQ(format_timestamp(1700000000.125), "1700000000.125000");
    EXPECT_EQ(format_timestamp(-1), "0.000000");
    EXPECT_EQ(format_hex(0), "0x0");
    EXPECT_EQ(format_hex(0x3539), "0x3539");
    EXPECT_EQ(format_hex(~0ULL), "0xffffffffffffffff");
}

TEST(RecordWriter, WritesCommonFieldsInOrderCompactly) {
    util::TempDir dir("rw");
    util::FixedStepClock clock(1700000000.0, 0.125);
    RecordWriter w(dir.path() / "drakmon.log", clock);
    CommonFields c;
    c.pid = 4;
    c.ppid = 1;
    c.tid = 8;
    c.process_name = "C:\\a.exe";
    c.method = "NtCreateFile";
    auto r = w.make_record("filetracer", c);
    r["FileName"] = "\\??\\C:\\x.txt";
    w.write(r);
    c.method.clear();
    auto r2 = w.make_record("crashmon", c);
    w.write(r2);
    auto lines = lines_of(dir.path() / "drakmon.log");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0],
              R"({"Plugin":"filetracer","TimeStamp":"1700000000.000000","PID":4,"PPID":1,"TID":8,)"
              R"("UserId":1,"ProcessName":"C:\\a.exe","Method":"NtCreateFile","EventUID":"0x1",)"
              R"("FileName":"\\??\\C:\\x.txt"})");
    EXPECT_EQ(lines[1],
              R"({"Plugin":"crashmon","TimeStamp":"1700000000.125000","PID":4,"PPID":1,"TID":8,)"
              R"("UserId":1,"ProcessName":"C:\\a.exe","Method":null,"EventUID":"0x2"})");
    EXPECT_EQ(w.records_written(), 2u);
}

TEST(RecordWriter, ReplacesInvalidUtf8AndEscapesControls) {
    util::TempDir dir("rw");
    util::FixedStepClock clock(1, 1);
    RecordWriter w(dir.path() / "drakmon.log", clock);
    nlohmann::ordered_json r;
    r["Plugin"] = "x";
    r["S"] = std::string("a\xff\nb");
    w.write(r);
    auto lines = lines_of(dir.path() / "drakmon.log");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "{\"Plugin\":\"x\",\"S\":\"a\xef\xbf\xbd\\nb\"}");
    auto parsed = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(parsed["S"], "a\xef\xbf\xbd\nb");
}

TEST(RecordWriter, InjectRecordUsesPrintfSeparators) {
    util::TempDir dir("rw");
    util::FixedStepClock clock(1, 1);
    RecordWriter w(dir.path() / "drakmon.log", clock);
    nlohmann::ordered_json r;
    r["Plugin"] = "inject";
    r["TimeStamp"] = "1.000000";
    r["Method"] = "CreateProc";
    r["Status"] = "Success";
    r["InjectedPid"] = 32;
    w.write_inject(r);
    auto lines = lines_of(dir.path() / "drakmon.log");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], R"({"Plugin": "inject", "TimeStamp": "1.000000", "Method": "CreateProc", )"
                        R"("Status": "Success", "InjectedPid": 32})");
}

TEST(RecordWriter, ConcurrentSinkWritesWholeLinesAndUniqueUids) {
    util::TempDir dir("rw");
    util::FixedStepClock clock(1, 0.001);
    RecordWriter w(dir.path() / "drakmon.log", clock);
    auto sink = w.sink();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 250; ++i) {
                nlohmann::ordered_json r;
                r["Plugin"] = "p";
                r["EventUID"] = w.next_event_uid();
                r["Pad"] = std::string(static_cast<std::size_t>(100 + t * 50), 'a' + t);
                sink(r);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    auto lines = lines_of(dir.path() / "drakmon.log");
    ASSERT_EQ(lines.size(), 1000u);
    std::set<std::string> uids;
    for (const auto& l : lines) {
        auto j = nlohmann::json::parse(l);  // throws (fails the test) on an interleaved line
        uids.insert(j["EventUID"].get<std::string>());
    }
    EXPECT_EQ(uids.size(), 1000u);
}

TEST(RecordWriter, UnwritablePathThrows) {
    util::FixedStepClock clock(1, 1);
    EXPECT_THROW(RecordWriter("/nonexistent-dir/x/drakmon.log", clock), util::SystemError);
}

}  // namespace
}  // namespace engine::native
