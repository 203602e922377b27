// Tests for postprocess/process_tree.hpp (spec §8.2): DS 0.19a1 golden, conflict recovery,
// unordered events, 100k processes, command-line splitting.
#include "postprocess/process_tree.hpp"

#include <gtest/gtest.h>

#include "support/paths.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using postprocess::ProcessTree;
using postprocess::ProcessTreeBuilder;

namespace {

const fs::path kCapa = test_support::shared_dir() / "fixtures/drakvuf/capa-testfiles-93b2d184";

ProcessTree build(const std::vector<std::string>& lines) {
    ProcessTreeBuilder b;
    for (const auto& l : lines) {
        b.add_line(l);
    }
    return b.finish();
}

std::string running(int pid, int ppid, const std::string& name, const std::string& ts = "1.0") {
    return R"({"Plugin":"procmon","TimeStamp":")" + ts + R"(","PID":)" + std::to_string(pid) +
           R"(,"PPID":)" + std::to_string(ppid) + R"(,"RunningProcess":")" + name + "\"}";
}

std::string create(int creator, int child, const std::string& ts, const std::string& image,
                   const std::string& cmdline = "") {
    return R"({"Plugin":"procmon","TimeStamp":")" + ts + R"(","PID":)" + std::to_string(creator) +
           R"(,"Method":"NtCreateUserProcess","Status":"0x0","NewPid":)" + std::to_string(child) +
           R"(,"CommandLine":")" + cmdline + R"(","ImagePathName":")" + image + "\"}";
}

std::string clean(int pid, const std::string& ts) {
    return R"({"Plugin":"procmon","TimeStamp":")" + ts +
           R"(","PID":4,"Method":"MmCleanProcessAddressSpace","ExitPid":)" + std::to_string(pid) +
           "}";
}

}  // namespace

TEST(ProcessTree, MatchesGolden) {
    auto tree = postprocess::build_process_tree(kCapa / "procmon.jsonl");
    EXPECT_EQ(postprocess::process_tree_to_json(tree),
              util::read_file(kCapa / "expected-v0.19.0-alpha1/process_tree.json"));
    EXPECT_TRUE(tree.warnings.empty());
}

TEST(ProcessTree, CommandLineIsUnescapedAndSplitLikeShlexNonPosix) {
    using postprocess::split_command_line;
    EXPECT_EQ(split_command_line(R"(C:\\Windows\\system32\\DllHost.exe /Processid:{AB})"),
              (std::vector<std::string>{R"(C:\Windows\system32\DllHost.exe)", "/Processid:{AB}"}));
    EXPECT_EQ(split_command_line(R"(\"C:\\Program Files\\a.exe\" -x  'y z'w)"),
              (std::vector<std::string>{R"("C:\Program Files\a.exe")", "-x", "'y z'", "w"}));
    EXPECT_EQ(split_command_line(R"(a"b c)"), (std::vector<std::string>{"a\"b", "c"}));
    EXPECT_EQ(split_command_line(""), std::vector<std::string>{});
    EXPECT_EQ(split_command_line("   "), std::vector<std::string>{});
    // Errors keep the whole original string.
    EXPECT_EQ(split_command_line(R"(\"unclosed arg)"),
              std::vector<std::string>{R"(\"unclosed arg)"});
    EXPECT_EQ(split_command_line(R"(bad \x4)"), std::vector<std::string>{R"(bad \x4)"});
    EXPECT_EQ(split_command_line("trailing \\"), std::vector<std::string>{"trailing \\"});
    // procmon octal-escapes UTF-8 bytes; we recover the text instead of Latin-1 mojibake.
    EXPECT_EQ(split_command_line(R"(caf\303\251.exe)"),
              std::vector<std::string>{"caf\xc3\xa9.exe"});
}

TEST(ProcessTree, PidReuseAndExitIntervals) {
    auto tree = build({
        running(4, 0, "System"),
        create(4, 100, "10.0", "a.exe"),
        clean(100, "20.0"),
        create(4, 100, "30.0", "b.exe"),  // same pid, later: a new process
        create(100, 200, "35.0", "c.exe"),
    });
    EXPECT_EQ(
        postprocess::process_tree_to_json(tree),
        R"([{"pid": 0, "procname": "Mocked parent", "args": [], "ts_from": 0.0, "ts_to": 1.0, )"
        R"("children": [{"pid": 4, "procname": "System", "args": [], "ts_from": 0.0, )"
        R"("ts_to": null, "children": [{"pid": 100, "procname": "a.exe", "args": [], )"
        R"("ts_from": 10.0, "ts_to": 20.0, "children": []}, {"pid": 100, "procname": )"
        R"("b.exe", "args": [], "ts_from": 30.0, "ts_to": null, "children": [{"pid": 200, )"
        R"("procname": "c.exe", "args": [], "ts_from": 35.0, "ts_to": null, )"
        R"("children": []}]}]}]}])");
    EXPECT_TRUE(tree.warnings.empty());
}

TEST(ProcessTree, ConflictsAndMissingParentsRecoverWithWarnings) {
    auto tree = build({
        running(4, 0, "System"), create(4, 100, "10.0", "a.exe"),
        create(4, 100, "15.0", "b.exe"),         // exit of a.exe lost: a.exe is closed at 15.0
        create(999, 300, "16.0", "orphan.exe"),  // creator unknown: placeholder parent
    });
    ASSERT_EQ(tree.processes.size(), 6u);
    EXPECT_EQ(tree.processes[2].procname, "a.exe");
    EXPECT_EQ(tree.processes[2].ts_to, 15.0);
    EXPECT_EQ(tree.processes[3].procname, "b.exe");
    EXPECT_FALSE(tree.processes[3].ts_to.has_value());
    EXPECT_TRUE(tree.processes[4].mocked);
    EXPECT_EQ(tree.processes[4].pid, 999);
    EXPECT_EQ(tree.processes[5].parent, 4u);
    EXPECT_EQ(tree.roots.size(), 2u);
    EXPECT_EQ(tree.warnings.size(), 2u);
}

TEST(ProcessTree, UnorderedEventsAreAppliedInTimeOrder) {
    // stdout order is not chronological: the child's creation is logged before its parent's.
    auto tree = build({
        running(4, 0, "System"),
        create(100, 200, "12.0", "child.exe"),
        create(4, 100, "10.0", "parent.exe"),
        clean(200, "13.0"),
    });
    ASSERT_EQ(tree.processes.size(), 4u);
    EXPECT_EQ(tree.processes[2].procname, "parent.exe");
    EXPECT_EQ(tree.processes[3].procname, "child.exe");
    EXPECT_EQ(tree.processes[3].parent, 2u);
    EXPECT_EQ(tree.processes[3].ts_to, 13.0);
    EXPECT_TRUE(tree.warnings.empty());
}

TEST(ProcessTree, DuplicateLinesFailedCreatesAndGarbageAreIgnored) {
    const auto line = create(4, 100, "10.0", "a.exe");
    std::string failed = line;
    failed.replace(failed.find("\"0x0\""), 5, "\"0xc0000022\"");
    auto tree = build({running(4, 0, "System"), line, line, failed, "garbage", "{\"Method\":1}"});
    EXPECT_EQ(tree.processes.size(), 3u);
}

TEST(ProcessTree, HundredThousandProcessesIncludingADeepChain) {
    std::vector<std::string> lines;
    lines.push_back(running(4, 0, "System"));
    // 50k flat children of System and a 50k-deep chain (iterative writer, no recursion).
    for (int i = 0; i < 50000; ++i) {
        lines.push_back(create(4, 10000 + i, std::to_string(10 + i) + ".5", "flat.exe"));
    }
    int parent = 4;
    for (int i = 0; i < 50000; ++i) {
        const int pid = 100000 + i;
        lines.push_back(create(parent, pid, std::to_string(100000 + i) + ".25", "chain.exe"));
        parent = pid;
    }
    auto tree = build(lines);
    EXPECT_EQ(tree.processes.size(), 100002u);
    EXPECT_TRUE(tree.warnings.empty());
    EXPECT_EQ(tree.processes.back().parent, tree.processes.size() - 2);
    const auto json = postprocess::process_tree_to_json(tree);
    size_t opens = 0;
    int depth = 0;
    int max_depth = 0;
    for (char c : json) {
        opens += c == '{' ? 1 : 0;
        depth += c == '[' ? 1 : c == ']' ? -1 : 0;
        max_depth = std::max(max_depth, depth);
    }
    EXPECT_EQ(opens, 100002u);
    EXPECT_EQ(depth, 0);
    EXPECT_GE(max_depth, 50000);
}

TEST(ProcessTree, EscapedKeysAndMethodsStillCount) {
    // The literal-text pre-filter must not drop records written with \u escapes.
    auto tree = build({
        R"({"Plugin":"procmon","TimeStamp":"1.0","PID":4,"PPID":0,"\u0052unningProcess":"System"})",
        R"({"Plugin":"procmon","TimeStamp":"2.0","PID":4,"Method":"NtCreate\u0055serProcess",)"
        R"("Status":"0x0","NewPid":8,"CommandLine":"","ImagePathName":"x.exe"})",
    });
    ASSERT_EQ(tree.processes.size(), 3u);
    EXPECT_EQ(tree.processes[1].procname, "System");
    EXPECT_EQ(tree.processes[2].procname, "x.exe");
}

TEST(ProcessTree, WarningsAreBoundedAndTheRestCounted) {
    // 1500 repeated RunningProcess records (later timestamps) of one process: each is an anomaly,
    // but only the first 1000 are kept verbatim and the remainder is summarised in one closing
    // line.
    std::vector<std::string> lines{running(4, 0, "System")};
    for (int i = 0; i < 1500; ++i) {
        lines.push_back(running(4, 0, "System", std::to_string(i + 2) + ".0"));
    }
    auto tree = build(lines);
    ASSERT_EQ(tree.warnings.size(), 1001u);
    EXPECT_EQ(tree.warnings[0], "duplicate process 4 (System) ignored");
    EXPECT_EQ(tree.warnings.back(), "500 further warnings not listed");
}
