// Integration tests for engine/native/native_engine: real samples (tests/programs ground truth
// and shell scripts) analysed end to end inside the sandbox + netsim; output layout, records,
// pcap, timeout kill with nothing left, 32-bit PE handling (issue 3 "Tests").
#include "engine/native/native_engine.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "engine/engine_factory.hpp"
#include "engine/native/cgroup.hpp"
#include "engine/native/netsim.hpp"
#include "engine/native/sandbox.hpp"
#include "engine/native/wine_prefix.hpp"
#include "netns_guard.hpp"
#include "support/paths.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

// string_field: the record's string value for `key`, "" when absent or not a string (procmon
// RunningProcess records have no Method; DRAKVUF writes "Method": null for nameless traps).
std::string string_field(const nlohmann::json& r, const char* key) {
    auto it = r.find(key);
    return (it != r.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

namespace fs = std::filesystem;

struct Analysis {
    util::TempDir tmp{"netest"};
    fs::path out = tmp.path() / "out";
    fs::path scratch_root = tmp.path() / "scratch";
    std::vector<std::string> stages;
    Analysis() {
        fs::create_directories(out);
        ::chmod(tmp.path().c_str(), 0755);
    }
    NativeEngineOptions options() const {
        NativeEngineOptions o;
        o.golden_prefix = test_support::binary_dir() / "wine-prefix-cache";
        o.scratch_root = scratch_root;
        o.tools_dir = test_support::binary_dir() / "bin";
        o.hooks_file = test_support::source_dir() / "data" / "hooks.txt";
        o.sweep_on_start = false;
        return o;
    }
    AnalysisResult analyze(const fs::path& sample, const std::string& file_name,
                           const std::string& platform, int timeout_s,
                           const std::string& start_command = "") {
        NativeEngine engine(options(), util::system_clock());
        AnalysisRequest r;
        r.sample_path = sample;
        r.file_name = file_name;
        r.platform = platform;
        r.timeout_s = timeout_s;
        r.start_command = start_command;
        r.output_dir = out;
        return engine.analyze(
            r, [&](const std::string& s, const std::string&) { stages.push_back(s); });
    }
    std::vector<std::string> lines() const {
        std::vector<std::string> v;
        std::istringstream in(util::read_file(out / "drakmon.log"));
        std::string l;
        while (std::getline(in, l)) {
            v.push_back(l);
        }
        return v;
    }
    std::vector<nlohmann::json> records() const {
        std::vector<nlohmann::json> v;
        for (const auto& l : lines()) {
            v.push_back(nlohmann::json::parse(l));
        }
        return v;
    }
};

fs::path program(const std::string& name) { return test_support::binary_dir() / "programs" / name; }

// Nothing of ours left: no cgroup, netns or scratch dir of this process.
void expect_nothing_left(const fs::path& scratch_root) {
    std::string prefix = std::string(kResourcePrefix) + std::to_string(::getpid()) + "-";
    for (const auto& d : cgroup_parent_dirs()) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(d, ec)) {
            EXPECT_NE(e.path().filename().string().rfind(prefix, 0), 0u) << e.path();
        }
    }
    for (const auto& n : list_netns()) {
        EXPECT_NE(n.rfind(prefix, 0), 0u) << n;
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(scratch_root, ec)) {
        ADD_FAILURE() << "scratch left: " << e.path();
    }
}

TEST(NativeEngine, ShellSampleWritesFilesAndBeacons) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    Analysis run;
    fs::path sample = run.tmp.path() / "beacon.sh";
    util::write_file_atomic(sample,
                            "#!/bin/sh\n"
                            "echo dropped > /tmp/dropped.txt\n"
                            "getent hosts c2.drak-test.example\n"
                            "curl -s -m 5 http://c2.drak-test.example/gate.php?id=1 >/dev/null\n"
                            "exit 0\n");
    auto res = run.analyze(sample, "beacon.sh", "linux", 20);
    EXPECT_EQ(res.start_command, "/home/user/beacon.sh");
    auto lines = run.lines();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0].rfind("{\"Plugin\": \"inject\", ", 0), 0u) << lines[0];
    auto recs = run.records();
    EXPECT_EQ(recs[0]["Status"], "Success");
    EXPECT_EQ(recs[0]["ProcessName"], "/home/user/beacon.sh");
    EXPECT_GT(recs[0]["InjectedPid"].get<int>(), 0);
    bool dns = false, http = false, file = false, exec_curl = false;
    for (const auto& r : recs) {
        if (r["Plugin"] == "netsim" && r["Event"] == "dns_query" &&
            r["DnsName"] == "c2.drak-test.example") {
            dns = true;
        }
        if (r["Plugin"] == "netsim" && r["Event"] == "http_request" &&
            r["Uri"] == "/gate.php?id=1") {
            http = true;
        }
        if (r["Plugin"] == "filetracer" && r.dump().find("/tmp/dropped.txt") != std::string::npos) {
            file = true;
        }
        if (r["Plugin"] == "procmon" && r.dump().find("/usr/bin/curl") != std::string::npos) {
            exec_curl = true;
        }
    }
    EXPECT_TRUE(dns);
    EXPECT_TRUE(http);
    EXPECT_TRUE(file);
    EXPECT_TRUE(exec_curl);
    std::string pcap = util::read_file(run.out / "dumps.pcap");
    EXPECT_NE(pcap.find("GET /gate.php?id=1"), std::string::npos);
    EXPECT_TRUE(fs::is_directory(run.out / "dumps"));
    expect_nothing_left(run.scratch_root);
}

TEST(NativeEngine, ElfGroundTruthProgram) {
    ASSERT_TRUE(fs::exists(program("elf_behaviour"))) << "build target test_programs";
    Analysis run;
    run.analyze(program("elf_behaviour"), "elf_behaviour", "linux", 20);
    auto recs = run.records();
    ASSERT_GT(recs.size(), 3u);
    EXPECT_EQ(recs[0]["Plugin"], "inject");
    std::set<std::string> plugins;
    for (const auto& r : recs) {
        plugins.insert(r["Plugin"].get<std::string>());
    }
    EXPECT_TRUE(plugins.count("procmon"));
    EXPECT_TRUE(plugins.count("filetracer"));
    expect_nothing_left(run.scratch_root);
}

TEST(NativeEngine, SampleOutlivingTimeoutIsKilledWithNothingLeft) {
    Analysis run;
    fs::path sample = run.tmp.path() / "sleeper.sh";
    util::write_file_atomic(sample, "#!/bin/sh\n(sleep 300 &) ; sleep 300 & sleep 300\n");
    auto start = std::chrono::steady_clock::now();
    run.analyze(sample, "sleeper.sh", "linux", 2);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, std::chrono::seconds(15));
    EXPECT_EQ(run.records()[0]["Plugin"], "inject");
    expect_nothing_left(run.scratch_root);
}

TEST(NativeEngine, Win64GroundTruthProgram) {
    ASSERT_TRUE(wine64_available());
    ASSERT_TRUE(fs::exists(program("pe_behaviour64.exe"))) << "build target test_programs";
    Analysis run;
    auto res = run.analyze(program("pe_behaviour64.exe"), "pe_behaviour64.exe", "win64", 60);
    auto lines = run.lines();
    ASSERT_FALSE(lines.empty());
    auto recs = run.records();
    ASSERT_EQ(recs[0]["Plugin"], "inject");
    EXPECT_EQ(recs[0]["Status"], "Success");
    EXPECT_EQ(recs[0]["ProcessName"], "C:\\users\\user\\Desktop\\pe_behaviour64.exe");
    std::int64_t pid = recs[0]["InjectedPid"];
    EXPECT_EQ(res.injected_pid, pid);
    EXPECT_GT(res.snapshot_version, 0);
    bool child = false, dropped = false, renamed = false, deleted = false, reg = false, dns = false,
         tls = false, exited = false, tls_key = false;
    for (const auto& r : recs) {
        if (r["Plugin"] == "procmon" && string_field(r, "Method") == "NtCreateUserProcess" &&
            r["PID"] == pid && r["Bitness"] == 64 && r["NewTid"].get<std::int64_t>() > 0 &&
            r["NewThreadHandle"] != "0x0" &&
            r["CommandLine"].get<std::string>().find("child") != std::string::npos) {
            child = true;
        }
        if (r["Plugin"] == "filetracer" && string_field(r, "Method") == "NtCreateFile" &&
            r["PID"] == pid && r["FileName"] == "\\??\\C:\\users\\Public\\drak_gt_dropped.txt") {
            dropped = true;
        }
        if (r["Plugin"] == "filetracer" && r.value("Operation", "") == "FileRenameInformation" &&
            r["FileDst"] == "\\??\\C:\\users\\Public\\drak_gt_renamed.txt") {
            renamed = true;
        }
        if (r["Plugin"] == "filetracer" &&
            r.value("Operation", "") == "FileDispositionInformation" &&
            r["FileName"] == "\\??\\C:\\users\\Public\\drak_gt_renamed.txt") {
            deleted = true;
        }
        if (r["Plugin"] == "regmon" && string_field(r, "Method") == "NtSetValueKey" &&
            r["ValueName"] == "Marker" &&
            r["Key"].get<std::string>().find("\\Software\\DrakGroundTruth") != std::string::npos) {
            reg = true;
        }
        if (r["Plugin"] == "netsim" && r.value("DnsName", "") == "beacon.drak-test.example") {
            dns = true;
        }
        if (r["Plugin"] == "netsim" && r.value("Event", "") == "https_request" &&
            r.value("Uri", "") == "/drak-tls-beacon") {
            tls = true;
        }
        if (r["Plugin"] == "tlsmon" && r["client_random"].get<std::string>().size() == 64 &&
            r["master_key"].get<std::string>().size() == 96) {
            tls_key = true;
        }
        if (r["Plugin"] == "procmon" && string_field(r, "Method") == "MmCleanProcessAddressSpace" &&
            r["ExitPid"] == pid) {
            exited = true;
        }
    }
    EXPECT_TRUE(child);
    EXPECT_TRUE(dropped);
    EXPECT_TRUE(renamed);
    EXPECT_TRUE(deleted);
    EXPECT_TRUE(reg);
    EXPECT_TRUE(dns);
    EXPECT_TRUE(tls);
    EXPECT_TRUE(exited);
    EXPECT_TRUE(tls_key) << "SSLKEYLOGFILE from Wine's schannel -> tlsmon";
    // The pcap holds the DNS query and the TLS handshake of the beacon.
    std::string pcap = util::read_file(run.out / "dumps.pcap");
    EXPECT_NE(pcap.find("drak-test"), std::string::npos);
    expect_nothing_left(run.scratch_root);
}

TEST(NativeEngine, ForkBombAndMemoryHogAreContained) {
    ASSERT_TRUE(fs::exists(program("elf_forkbomb")));
    ASSERT_TRUE(fs::exists(program("elf_memhog")));
    for (const char* name : {"elf_forkbomb", "elf_memhog"}) {
        Analysis run;
        auto start = std::chrono::steady_clock::now();
        auto opts = run.options();
        opts.limits.max_pids = 64;
        opts.limits.memory_bytes = 128ull << 20;
        NativeEngine engine(opts, util::system_clock());
        AnalysisRequest r;
        r.sample_path = program(name);
        r.file_name = name;
        r.platform = "linux";
        r.timeout_s = 4;
        r.output_dir = run.out;
        engine.analyze(r, [](const std::string&, const std::string&) {});
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30)) << name;
        EXPECT_EQ(run.records()[0]["Plugin"], "inject") << name;
        EXPECT_EQ(std::system("true"), 0);  // the host can still fork
        expect_nothing_left(run.scratch_root);
    }
}

TEST(NativeEngine, Win32RunsWithWine32OrFailsFastWithout) {
    Analysis run;
    if (wine32_available()) {
        // wine32:i386 installed (scripts/setup.d/engine.sh): the 32-bit ground truth runs.
        ASSERT_TRUE(fs::exists(program("pe_behaviour32.exe")));
        auto res = run.analyze(program("pe_behaviour32.exe"), "pe_behaviour32.exe", "win32", 60);
        auto recs = run.records();
        EXPECT_EQ(recs[0]["Status"], "Success");
        EXPECT_GT(res.injected_pid, 0);
        // The sample itself (not a 64-bit loader stub) is the injected process: its own
        // child is the ground truth's "child drak-gt-marker" copy.
        bool child = false;
        for (const auto& r : recs) {
            child =
                child ||
                (r["Plugin"] == "procmon" && string_field(r, "Method") == "NtCreateUserProcess" &&
                 r["PID"] == res.injected_pid && r["Bitness"] == 32 &&
                 string_field(r, "CommandLine").find("child drak-gt-marker") != std::string::npos);
        }
        // ... and the child's record says 32-bit (read from its PE header in the sandbox).
        EXPECT_TRUE(child) << util::read_file(run.out / "drakmon.log").substr(0, 6000);
        return;
    }
    fs::path sample = run.tmp.path() / "x.exe";
    util::write_file_atomic(sample, "MZ");
    auto start = std::chrono::steady_clock::now();
    try {
        run.analyze(sample, "x.exe", "win32", 10);
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("32-bit PE needs wine32"), std::string::npos);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    EXPECT_FALSE(fs::exists(run.out / "drakmon.log"));
}

TEST(NativeEngine, RejectsBadRequests) {
    Analysis run;
    fs::path sample = run.tmp.path() / "s.sh";
    util::write_file_atomic(sample, "#!/bin/sh\n");
    for (const std::string& bad : std::vector<std::string>{"", "..", "a/b", "a\\b", "a\nb"}) {
        try {
            run.analyze(sample, bad, "linux", 5);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const EngineError& e) {
            EXPECT_FALSE(e.retryable());
        }
    }
    EXPECT_THROW(run.analyze(sample, "s.sh", "amiga", 5), EngineError);
    EXPECT_THROW(run.analyze(run.tmp.path() / "missing", "s.sh", "linux", 5), EngineError);
}

TEST(EngineFactory, MakesNativeAndRejectsUnknown) {
    auto e = make_engine("native", {{"memory_mb", "512"}, {"scratch_root", "/tmp/x"}});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->name(), "native");
    EXPECT_TRUE(e->supports_platform("linux"));
    EXPECT_FALSE(e->supports_platform("amiga"));
    auto checks = e->sanity();
    bool has_root = false;
    for (const auto& c : checks) {
        has_root = has_root || (c.name == "root" && c.ok);
    }
    EXPECT_TRUE(has_root);
    EXPECT_THROW(make_engine("xen2"), util::InputError);
    EXPECT_THROW(make_engine("native", {{"bogus", "1"}}), util::InputError);
    EXPECT_THROW(make_engine("native", {{"memory_mb", "-5"}}), util::InputError);
    EXPECT_NO_THROW(make_engine("native", {{"writable_quota_mb", "256"}, {"warm_up", "0"}}));
    EXPECT_THROW(make_engine("native", {{"writable_quota_mb", "0"}}), util::InputError);
    EXPECT_THROW(make_engine("native", {{"warm_up", "maybe"}}), util::InputError);
}

}  // namespace
}  // namespace engine::native
