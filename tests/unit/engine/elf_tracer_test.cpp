// Tests for engine/native/elf_tracer.hpp and the drak-trace-elf executable: pure helpers, then
// end-to-end runs of the ELF ground-truth programs (tests/programs/README.md). The whole test
// process first moves into a fresh network namespace with only loopback up, so the traced
// programs can reach nothing but 127.0.0.1.
#include "engine/native/elf_tracer.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/paths.hpp"
#include "util/fs.hpp"

namespace {

using Json = nlohmann::ordered_json;

class LoopbackOnlyNetwork : public ::testing::Environment {
  public:
    void SetUp() override {
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0)
            << "unshare(CLONE_NEWNET) failed (these tests need root): " << std::strerror(errno);
        int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(s, 0);
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        ASSERT_EQ(::ioctl(s, SIOCGIFFLAGS, &ifr), 0);
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        ASSERT_EQ(::ioctl(s, SIOCSIFFLAGS, &ifr), 0);
        ::close(s);
    }
};
const auto* const kNetworkEnv = ::testing::AddGlobalTestEnvironment(new LoopbackOnlyNetwork);

std::filesystem::path tracer_bin() { return test_support::binary_dir() / "bin" / "drak-trace-elf"; }
std::filesystem::path program(const std::string& name) {
    return test_support::binary_dir() / "programs" / name;
}

std::vector<Json> read_records(const std::filesystem::path& path) {
    std::vector<Json> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(Json::parse(line));  // every line must be strict JSON
    }
    return out;
}

struct TraceRun {
    int exit_code = -1;
    double seconds = 0;
    std::vector<Json> records;
    std::string stdout_text;
    std::filesystem::path dumps;
};

TraceRun run_tracer(const util::TempDir& dir, const std::vector<std::string>& args,
                    double timeout) {
    EXPECT_TRUE(std::filesystem::exists(tracer_bin())) << "build target drak-trace-elf first";
    TraceRun run;
    run.dumps = dir.path() / "dumps";
    std::string cmd = tracer_bin().string() + " --output " + (dir.path() / "out.jsonl").string() +
                      " --dumps-dir " + run.dumps.string() + " --timeout " +
                      std::to_string(timeout) + " --";
    for (const auto& a : args) {
        cmd += " '" + a + "'";
    }
    cmd += " > " + (dir.path() / "stdout.txt").string();
    auto start = std::chrono::steady_clock::now();
    int status = std::system(cmd.c_str());
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.records = read_records(dir.path() / "out.jsonl");
    run.stdout_text = util::read_file(dir.path() / "stdout.txt");
    return run;
}

std::vector<Json> select(const std::vector<Json>& records, const std::string& plugin,
                         const std::string& method) {
    std::vector<Json> out;
    for (const auto& r : records) {
        if (r["Plugin"] == plugin && r.contains("Method") && r["Method"] == method) {
            out.push_back(r);
        }
    }
    return out;
}

std::vector<std::string> keys(const Json& j) {
    std::vector<std::string> out;
    for (const auto& [k, v] : j.items()) {
        out.push_back(k);
    }
    return out;
}

TEST(DnsQueryName, ParsesQueriesRejectsOthers) {
    std::string q(
        "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        "\x06"
        "beacon\x09"
        "drak-test\x07"
        "example\x00\x00\x01\x00\x01",
        12 + 26 + 4 + 1);
    ASSERT_EQ(engine::native::dns_query_name(q), "beacon.drak-test.example");
    std::string response = q;
    response[2] = '\x81';
    EXPECT_FALSE(engine::native::dns_query_name(response).has_value());
    EXPECT_FALSE(engine::native::dns_query_name(q.substr(0, 20)).has_value());
    std::string pointer = q;
    pointer[12] = '\xc0';  // a compression pointer where a label must be
    EXPECT_FALSE(engine::native::dns_query_name(pointer).has_value());
    EXPECT_FALSE(engine::native::dns_query_name("").has_value());
    std::string no_question = q;
    no_question[5] = 0;
    EXPECT_FALSE(engine::native::dns_query_name(no_question).has_value());
}

TEST(WindowsCommandLine, QuotesOnlyWhenNeeded) {
    EXPECT_EQ(engine::native::windows_command_line({"/bin/echo", "a", "b c", "", "q\"x"}),
              R"(/bin/echo a "b c" "" "q\"x")");
    EXPECT_EQ(engine::native::windows_command_line({}), "");
}

TEST(ElfTracer, BehaviourProgramProducesExpectedRecordsAndDumps) {
    util::TempDir dir("trace");
    std::filesystem::create_directories(dir.path() / "work");
    std::string work = dir.path().string() + "/work";
    std::string prog = program("elf_behaviour").string();
    TraceRun run = run_tracer(dir, {prog, work}, 30);
    ASSERT_EQ(run.exit_code, 7) << run.stdout_text;
    ASSERT_FALSE(run.records.empty());

    // Common-field key order (spec §1.3, current format) on every trap-context record.
    const std::vector<std::string> common = {"Plugin", "TimeStamp",   "PID",    "PPID",    "TID",
                                             "UserId", "ProcessName", "Method", "EventUID"};
    for (const auto& r : run.records) {
        if (r.contains("RunningProcess")) {
            continue;
        }
        auto k = keys(r);
        ASSERT_GE(k.size(), common.size()) << r.dump();
        EXPECT_EQ(std::vector<std::string>(k.begin(), k.begin() + 9), common) << r.dump();
    }

    // Process tree: tracer -> elf_behaviour -> (fork) -> exec /bin/echo.
    const auto& running = run.records.front();
    ASSERT_TRUE(running.contains("RunningProcess"));
    std::int64_t tracer_pid = running["PID"];
    auto creates = select(run.records, "procmon", "NtCreateUserProcess");
    ASSERT_EQ(creates.size(), 3u);
    EXPECT_EQ(creates[0]["PID"], tracer_pid);
    EXPECT_EQ(creates[0]["ImagePathName"], prog);
    EXPECT_EQ(creates[0]["CommandLine"], prog + " " + work);
    EXPECT_EQ(creates[0]["Status"], "0x0");
    EXPECT_EQ(creates[0]["Bitness"], 64);
    std::int64_t root = creates[0]["NewPid"];
    // fork: the child starts as a copy of the parent.
    EXPECT_EQ(creates[1]["PID"], root);
    EXPECT_EQ(creates[1]["ImagePathName"], prog);
    std::int64_t child = creates[1]["NewPid"];
    EXPECT_NE(child, root);
    // exec: the copy ends, the new image starts as a child of the forking parent.
    EXPECT_EQ(creates[2]["PID"], root);
    EXPECT_EQ(creates[2]["NewPid"], child);
    EXPECT_EQ(creates[2]["ImagePathName"], std::filesystem::canonical("/bin/echo").string());
    EXPECT_EQ(creates[2]["CommandLine"], "/bin/echo drak-gt-child --marker=42");
    EXPECT_EQ(creates[2]["CWD"], std::filesystem::current_path().string());
    auto cleans = select(run.records, "procmon", "MmCleanProcessAddressSpace");
    std::vector<std::int64_t> exited;
    for (const auto& c : cleans) {
        exited.push_back(c["ExitPid"]);
    }
    EXPECT_EQ(exited, (std::vector<std::int64_t>{child, child, root}));
    EXPECT_LT(cleans[0]["TimeStamp"].get<std::string>(),
              creates[2]["TimeStamp"].get<std::string>());
    for (const auto& r : run.records) {
        if (r.contains("TID") && r["PID"] == child) {
            EXPECT_EQ(r["PPID"], root) << r.dump();
        }
    }

    // filetracer: create, rename, delete in the work directory.
    bool created = false;
    for (const auto& r : select(run.records, "filetracer", "openat")) {
        if (r["FileName"] == work + "/drak_gt_dropped.txt") {
            created = true;
            EXPECT_EQ(r["PID"], root);
            EXPECT_EQ(r["DesiredAccess"], "O_WRONLY");
            EXPECT_EQ(r["CreateDisposition"], "O_CREAT | O_TRUNC");
            EXPECT_EQ(r["Status"], "SUCCESS");
        }
    }
    EXPECT_TRUE(created);
    auto renames = select(run.records, "filetracer", "rename");
    ASSERT_EQ(renames.size(), 1u);
    EXPECT_EQ(renames[0]["Operation"], "FileRenameInformation");
    EXPECT_EQ(renames[0]["FileSrc"], work + "/drak_gt_dropped.txt");
    EXPECT_EQ(renames[0]["FileDst"], work + "/drak_gt_renamed.txt");
    auto unlinks = select(run.records, "filetracer", "unlink");
    ASSERT_EQ(unlinks.size(), 1u);
    EXPECT_EQ(unlinks[0]["Operation"], "FileDispositionInformation");
    EXPECT_EQ(unlinks[0]["FileName"], work + "/drak_gt_renamed.txt");

    // socketmon: the DNS-looking datagram and the TCP beacon to 127.0.0.1:<port>.
    auto sends = select(run.records, "socketmon", "sendto");
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0]["DnsName"], "beacon.drak-test.example");
    auto port_pos = run.stdout_text.find("port=");
    ASSERT_NE(port_pos, std::string::npos);
    int port = std::atoi(run.stdout_text.c_str() + port_pos + 5);
    auto connects = select(run.records, "socketmon", "connect");
    ASSERT_EQ(connects.size(), 1u);
    EXPECT_EQ(connects[0]["Protocol"], "TCPv4");
    EXPECT_EQ(connects[0]["TcpState"], "established");
    EXPECT_EQ(connects[0]["RemoteIp"], "127.0.0.1");
    EXPECT_EQ(connects[0]["RemotePort"], port);
    EXPECT_EQ(connects[0]["LocalIp"], "127.0.0.1");
    EXPECT_EQ(connects[0]["OwnerPID"], root);

    // syscall records carry resolved path arguments.
    bool syscall_rename = false;
    for (const auto& r : select(run.records, "syscall", "rename")) {
        syscall_rename |= r["oldname"] == work + "/drak_gt_dropped.txt" && r["Module"] == "linux";
    }
    EXPECT_TRUE(syscall_rename);

    // memdump: the mprotect'ed code at mprotect time, both code regions at exit.
    auto dumps = [&](const std::string& marker) {
        std::vector<Json> out;
        for (const auto& r : run.records) {
            if (r["Plugin"] != "memdump") {
                continue;
            }
            std::string data = util::read_file(run.dumps / r["DumpFilename"].get<std::string>());
            if (data.find(marker) != std::string::npos) {
                out.push_back(r);
            }
        }
        return out;
    };
    auto rx = dumps("DRAK-MPROTECT-MARKER-9876543210");
    ASSERT_GE(rx.size(), 1u);
    EXPECT_EQ(rx[0]["Method"], "mprotect");
    EXPECT_EQ(rx[0]["DumpReason"], "Possible shellcode detected");
    EXPECT_EQ(rx[0]["DumpPID"], root);
    auto rwx = dumps("DRAK-RWX-MARKER-0123456789");
    ASSERT_EQ(rwx.size(), 1u);
    EXPECT_EQ(rwx[0]["Method"], "exit_group");
    EXPECT_EQ(rwx[0]["DumpReason"], "Interesting RWX memory");
    // The data file starts with the shellcode itself: mov eax, 42; ret.
    std::string code = util::read_file(run.dumps / rwx[0]["DumpFilename"].get<std::string>());
    EXPECT_EQ(code.substr(0, 6), std::string("\xB8\x2A\x00\x00\x00\xC3", 6));
    std::int64_t max_count = 0;
    for (const auto& r : run.records) {
        if (r["Plugin"] == "memdump") {
            max_count = std::max<std::int64_t>(max_count, r["DumpsCount"]);
        }
    }
    char last[64];
    std::snprintf(last, sizeof last, "memdump.%06lld.metadata", static_cast<long long>(max_count));
    EXPECT_TRUE(std::filesystem::exists(run.dumps / last));
    // No dumps of file-backed images (the program's own code, libc).
    for (const auto& r : run.records) {
        if (r["Plugin"] == "memdump") {
            EXPECT_NE(r["Method"], "mmap");
        }
    }
}

TEST(ElfTracer, LibraryApiFillsProcessTable) {
    util::TempDir dir("trace");
    util::FixedStepClock clock(1800000000.0, 0.001);
    std::vector<Json> records;
    auto sink = [&](Json r) { records.push_back(std::move(r)); };
    engine::native::MemoryDumper dumper(dir.path() / "dumps", sink, clock);
    engine::native::ProcessTable table;
    engine::native::ElfTracerOptions opts;
    opts.argv = {"/bin/sh", "-c", "exit 3"};
    opts.env = {"PATH=/usr/bin:/bin"};
    opts.syscall_records = false;
    engine::native::ElfTracer tracer(sink, clock, table, dumper, opts);
    auto result = tracer.run();
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_FALSE(result.timed_out);
    EXPECT_EQ(result.processes, 1u);
    bool found = false;
    for (const auto& [pid, info] : table.snapshot()) {
        if (info.command_line == "/bin/sh -c \"exit 3\"") {
            found = true;
            EXPECT_TRUE(info.exited.has_value());
            EXPECT_EQ(info.host_pid, pid);
        }
    }
    EXPECT_TRUE(found);
    for (const auto& r : records) {
        EXPECT_NE(r["Plugin"], "syscall");
    }
    EXPECT_EQ(records.front()["TimeStamp"], "1800000000.000000");
}

TEST(ElfTracer, TimeoutKillsTheWholeTree) {
    util::TempDir dir("trace");
    TraceRun run = run_tracer(dir, {program("elf_sleeper").string()}, 1);
    EXPECT_EQ(run.exit_code, 124);
    EXPECT_LT(run.seconds, 10);
    int parent = 0;
    int child = 0;
    ASSERT_EQ(std::sscanf(run.stdout_text.c_str(), "sleeper parent=%d child=%d", &parent, &child),
              2)
        << run.stdout_text;
    EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(parent)));
    EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(child)));
    EXPECT_EQ(select(run.records, "procmon", "MmCleanProcessAddressSpace").size(), 2u);
}

TEST(ElfTracer, BoundedForkBombIsKilledOnTimeout) {
    util::TempDir dir("trace");
    TraceRun run = run_tracer(dir, {program("elf_forkbomb").string()}, 1.5);
    EXPECT_EQ(run.exit_code, 124);
    auto creates = select(run.records, "procmon", "NtCreateUserProcess");
    EXPECT_EQ(creates.size(), 64u);  // the root plus 63 forks (2^6 processes)
    std::set<std::int64_t> pids;
    for (const auto& c : creates) {
        pids.insert(c["NewPid"].get<std::int64_t>());
    }
    for (auto pid : pids) {
        EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid))) << pid;
    }
    EXPECT_EQ(select(run.records, "procmon", "MmCleanProcessAddressSpace").size(), 64u);
}

TEST(ElfTracer, WorksUnprivilegedAsPid1OfAPidNamespace) {
    // As inside the native sandbox: own pid namespace (the tracer is pid 1), uid 65534.
    util::TempDir dir("trace");
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
    // uid 65534 may not be able to reach the build tree (a checkout under /root or a 0700
    // directory): run copies from the world-accessible scratch directory, as the sandbox does.
    const auto tracer = dir.path() / "drak-trace-elf";
    const auto sample = dir.path() / "elf_behaviour";
    std::filesystem::copy_file(tracer_bin(), tracer);
    std::filesystem::copy_file(program("elf_behaviour"), sample);
    std::string cmd =
        "unshare --pid --fork --mount-proc setpriv --reuid=65534 --regid=65534 "
        "--clear-groups " +
        tracer.string() + " --output " + (dir.path() / "out.jsonl").string() + " --dumps-dir " +
        (dir.path() / "dumps").string() + " --timeout 20 -- " + sample.string() + " " +
        dir.path().string() + " > " + (dir.path() / "stdout.txt").string();
    int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 7);
    auto records = read_records(dir.path() / "out.jsonl");
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.front()["PID"], 1);
    auto creates = select(records, "procmon", "NtCreateUserProcess");
    ASSERT_EQ(creates.size(), 3u);
    EXPECT_EQ(creates[0]["PID"], 1);
    EXPECT_EQ(creates[0]["UserId"], 65534);
    EXPECT_EQ(select(records, "socketmon", "connect").size(), 1u);
    bool rwx = false;
    for (const auto& r : records) {
        if (r["Plugin"] == "memdump") {
            std::string data =
                util::read_file(dir.path() / "dumps" / r["DumpFilename"].get<std::string>());
            rwx |= data.find("DRAK-RWX-MARKER-0123456789") != std::string::npos;
        }
    }
    EXPECT_TRUE(rwx);
}

TEST(ElfTracer, MissingProgramExits127) {
    util::TempDir dir("trace");
    TraceRun run = run_tracer(dir, {"/nonexistent/program"}, 5);
    EXPECT_EQ(run.exit_code, 127);
}

}  // namespace
