// Integration tests for the native engine's output as the pipeline consumes it (issue 3):
// the TLS key log decrypts the beacon in the pcap (tshark), the process tree postprocessing
// builds from procmon shows the sample with only its real children (Wine's own processes are
// not attributed to it), and the per-analysis writable quota (overlay upper layer / ELF home)
// ends in ENOSPC instead of filling the host disk.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "engine/native/native_engine.hpp"
#include "engine/native/wine_prefix.hpp"
#include "netns_guard.hpp"
#include "postprocess/process_tree.hpp"
#include "postprocess/tls_keys.hpp"
#include "support/paths.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

namespace fs = std::filesystem;

fs::path program(const std::string& name) { return test_support::binary_dir() / "programs" / name; }

struct NativeRun {
    util::TempDir tmp{"nptest"};
    fs::path out = tmp.path() / "out";
    fs::path scratch_root = tmp.path() / "scratch";
    std::vector<std::string> messages;  // progress messages of the last analysis
    bool said(const std::string& m) const {
        return std::find(messages.begin(), messages.end(), m) != messages.end();
    }
    NativeRun() {
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
    AnalysisResult analyze(const NativeEngineOptions& opts, const fs::path& sample,
                           const std::string& file_name, const std::string& platform, int timeout_s,
                           const std::string& start_command = "") {
        NativeEngine engine(opts, util::system_clock());
        AnalysisRequest r;
        r.sample_path = sample;
        r.file_name = file_name;
        r.platform = platform;
        r.timeout_s = timeout_s;
        r.start_command = start_command;
        r.output_dir = out;
        return engine.analyze(
            r, [this](const std::string&, const std::string& m) { messages.push_back(m); });
    }
    // lines_of returns the drakmon.log lines whose Plugin is `plugin`.
    std::vector<std::string> lines_of(const std::string& plugin) const {
        std::vector<std::string> v;
        std::istringstream in(util::read_file(out / "drakmon.log"));
        std::string l;
        while (std::getline(in, l)) {
            auto r = nlohmann::json::parse(l, nullptr, false);
            if (r.is_object() && r.value("Plugin", "") == plugin) {
                v.push_back(l);
            }
        }
        return v;
    }
    std::vector<nlohmann::json> records_of(const std::string& plugin) const {
        std::vector<nlohmann::json> v;
        for (const auto& l : lines_of(plugin)) {
            v.push_back(nlohmann::json::parse(l));
        }
        return v;
    }
};

// run_capture runs a shell command and returns its stdout (the exit status in `rc`).
std::string run_capture(const std::string& cmd, int* rc = nullptr) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    int status = ::pclose(p);
    if (rc != nullptr) {
        *rc = status;
    }
    return out;
}

// One Win64 ground-truth analysis shared by the TLS and process-tree tests (a Wine run costs
// a few seconds; both read the same output).
class Win64GroundTruth : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (!wine64_available() || !fs::exists(program("pe_behaviour64.exe"))) {
            return;
        }
        run_ = new NativeRun();
        result_ = new AnalysisResult(run_->analyze(run_->options(), program("pe_behaviour64.exe"),
                                                   "pe_behaviour64.exe", "win64", 60));
    }
    static void TearDownTestSuite() {
        delete result_;
        delete run_;
        result_ = nullptr;
        run_ = nullptr;
    }
    void SetUp() override {
        ASSERT_TRUE(engine_test::in_isolated_netns());
        ASSERT_TRUE(wine64_available());
        ASSERT_NE(run_, nullptr) << "pe_behaviour64.exe missing: build target test_programs";
    }
    static NativeRun* run_;
    static AnalysisResult* result_;
};
NativeRun* Win64GroundTruth::run_ = nullptr;
AnalysisResult* Win64GroundTruth::result_ = nullptr;

// The HTTP requests tshark sees in the pcap: "<tls 0|1>\t<method>\t<uri>\t<host>" lines.
std::vector<std::string> tshark_http_requests(const fs::path& pcap, const fs::path& keylog,
                                              const fs::path& home) {
    std::string cmd =
        "env -i HOME=" + home.string() + " PATH=/usr/bin:/bin tshark -n -r " + pcap.string();
    if (!keylog.empty()) {
        cmd += " -o tls.keylog_file:" + keylog.string();
    }
    cmd +=
        " -Y http.request -T fields -E separator=/t -e tls.record.version -e "
        "http.request.method -e http.request.uri -e http.host 2>/dev/null";
    int rc = -1;
    std::string text = run_capture(cmd, &rc);
    EXPECT_EQ(rc, 0) << cmd;
    std::vector<std::string> v;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) {
        v.push_back(l);
    }
    return v;
}

TEST_F(Win64GroundTruth, TlsKeyFileDecryptsTheHttpsBeacon) {
    ASSERT_EQ(::access("/usr/bin/tshark", X_OK), 0) << "apt-get install tshark (engine.list)";
    // The pipeline's path: tlsmon records -> tlsmon.log -> wireshark_key_file.txt.
    auto tls = run_->lines_of("tlsmon");
    ASSERT_FALSE(tls.empty()) << "no tlsmon records: Wine's schannel logged no keys";
    fs::path tlsmon = run_->tmp.path() / "tlsmon.log";
    {
        std::ofstream f(tlsmon);
        for (const auto& l : tls) {
            f << l << '\n';
        }
    }
    fs::path keyfile = run_->tmp.path() / "wireshark_key_file.txt";
    EXPECT_GT(postprocess::generate_wireshark_key_file(tlsmon, keyfile), 0u);
    fs::path home = run_->tmp.path() / "tshark-home";
    fs::create_directories(home);
    fs::path pcap = run_->out / "dumps.pcap";

    auto is_tls_beacon = [](const std::string& l) {
        return l.find("\tGET\t/drak-tls-beacon\tbeacon.drak-test.example") != std::string::npos;
    };
    auto with_keys = tshark_http_requests(pcap, keyfile, home);
    bool decrypted = false, plain = false;
    for (const auto& l : with_keys) {
        // A TLS record version on the line: the request came out of a decrypted TLS stream.
        if (is_tls_beacon(l) && l.rfind("0x", 0) == 0) {
            decrypted = true;
        }
        if (l.find("\tGET\t/drak-beacon\tbeacon.drak-test.example") != std::string::npos) {
            plain = true;
        }
    }
    std::string all;
    for (const auto& l : with_keys) {
        all += l + "\n";
    }
    EXPECT_TRUE(decrypted) << "tshark with the key file saw:\n" << all;
    EXPECT_TRUE(plain) << "the plain TCP beacon is in the pcap too:\n" << all;

    // Without the key file the HTTPS request stays encrypted (the plain beacon is still seen).
    auto without = tshark_http_requests(pcap, {}, home);
    bool leaked = false, plain_without = false;
    for (const auto& l : without) {
        leaked = leaked || l.find("/drak-tls-beacon") != std::string::npos;
        plain_without = plain_without || l.find("/drak-beacon\t") != std::string::npos;
    }
    EXPECT_FALSE(leaked);
    EXPECT_TRUE(plain_without);
}

// describe renders a process tree for failure messages ("pid ppid name | command line").
std::string describe(const postprocess::ProcessTree& tree) {
    std::string s;
    for (const auto& p : tree.processes) {
        s += std::to_string(p.pid) + " " + std::to_string(p.ppid) + " " + p.procname + " | " +
             p.command_line + "\n";
    }
    return s;
}

TEST_F(Win64GroundTruth, ProcessTreeHasTheSampleWithOnlyItsRealChildren) {
    postprocess::ProcessTreeBuilder builder;
    for (const auto& l : run_->lines_of("procmon")) {
        builder.add_line(l);
    }
    auto tree = builder.finish();
    const std::string text = describe(tree);
    std::optional<std::size_t> sample;
    for (std::size_t i = 0; i < tree.processes.size(); ++i) {
        if (tree.processes[i].pid == result_->injected_pid) {
            ASSERT_FALSE(sample) << "sample pid twice:\n" << text;
            sample = i;
        }
    }
    ASSERT_TRUE(sample) << text;
    const auto& s = tree.processes[*sample];
    EXPECT_EQ(s.procname, "C:\\users\\user\\Desktop\\pe_behaviour64.exe");
    // The sample hangs below the launcher (explorer.exe, as DRAKVUF's injection shows it).
    ASSERT_TRUE(s.parent) << text;
    EXPECT_EQ(tree.processes[*s.parent].procname, "C:\\windows\\explorer.exe") << text;
    if (tree.processes[*s.parent].parent) {
        EXPECT_TRUE(tree.processes[*tree.processes[*s.parent].parent].mocked) << text;
    }
    // Exactly one child: the ground truth's own "child drak-gt-marker" copy, with no children.
    ASSERT_EQ(s.children.size(), 1u) << text;
    const auto& c = tree.processes[s.children[0]];
    EXPECT_NE(c.command_line.find("child drak-gt-marker"), std::string::npos) << text;
    EXPECT_NE(c.procname.find("pe_behaviour64.exe"), std::string::npos) << text;
    EXPECT_TRUE(c.children.empty()) << text;
    // Wine's infrastructure is never attributed to the sample's subtree (nor anywhere else in
    // the tree an analyst reads as the sample's activity).
    for (const auto& p : tree.processes) {
        for (const char* infra : {"wineboot.exe", "services.exe", "winedevice.exe", "plugplay.exe",
                                  "rpcss.exe", "svchost.exe", "conhost.exe", "start.exe"}) {
            EXPECT_EQ(p.procname.find(infra), std::string::npos) << text;
        }
    }
}

// mounts_below lists the mount points at or below `dir` (none may be left after an analysis).
std::vector<std::string> mounts_below(const fs::path& dir) {
    std::vector<std::string> v;
    std::istringstream in(util::read_file("/proc/self/mountinfo"));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string a, b, c, d, point;
        f >> a >> b >> c >> d >> point;
        if (point.rfind(dir.string(), 0) == 0) {
            v.push_back(point);
        }
    }
    return v;
}

// quota_record returns the `sandbox` disk_quota_exhausted record, or null.
nlohmann::json quota_record(const NativeRun& run) {
    for (const auto& r : run.records_of("sandbox")) {
        if (r.value("Event", "") == "disk_quota_exhausted") {
            return r;
        }
    }
    return nullptr;
}

bool resolved(const NativeRun& run, const std::string& name) {
    for (const auto& r : run.records_of("netsim")) {
        if (r.value("Event", "") == "dns_query" && r.value("DnsName", "") == name) {
            return true;
        }
    }
    return false;
}

// fill_script: a shell sample writing 200 MB to `path`; when dd fails with ENOSPC it resolves
// `dns_name` (netsim logs the query, so the test sees the sample got "disk full").
std::string fill_script(const std::string& path, const std::string& dns_name) {
    return "#!/bin/sh\n"
           "if ! dd if=/dev/zero of=" + path + " bs=1M count=200 2>/tmp/err; then\n"
           "  grep -q 'No space left' /tmp/err && getent hosts " + dns_name + "\n"
           "fi\n"
           "exit 0\n";
}

TEST(WritableQuota, PeFillingItsCDriveGetsDiskFullAndTheAnalysisFinishes) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    ASSERT_TRUE(wine64_available());
    ASSERT_TRUE(fs::exists(program("pe_diskfill64.exe"))) << "build target test_programs";
    NativeRun run;
    auto opts = run.options();
    opts.writable_quota_bytes = 64ull << 20;
    auto start = std::chrono::steady_clock::now();
    auto res = run.analyze(opts, program("pe_diskfill64.exe"), "pe_diskfill64.exe", "win64", 60);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(50));
    EXPECT_GT(res.injected_pid, 0);
    // The program saw ERROR_DISK_FULL (it only resolves this name then) ...
    EXPECT_TRUE(resolved(run, "diskfull.drak-test.example"));
    // ... and the log says the quota was exhausted.
    auto q = quota_record(run);
    ASSERT_TRUE(q.is_object()) << util::read_file(run.out / "drakmon.log").substr(0, 4000);
    EXPECT_EQ(q["LimitBytes"], 64ull << 20);
    EXPECT_GT(q["UsedBytes"].get<std::uint64_t>(), 60ull << 20);
    EXPECT_LE(q["UsedBytes"].get<std::uint64_t>(), 64ull << 20);
    EXPECT_TRUE(mounts_below(run.scratch_root).empty());
    std::error_code ec;
    EXPECT_TRUE(fs::is_empty(run.scratch_root, ec));
}

TEST(WritableQuota, ElfFillingItsHomeGetsEnospcAndTheAnalysisFinishes) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    NativeRun run;
    fs::path sample = run.tmp.path() / "fill.sh";
    util::write_file_atomic(sample, fill_script("/home/user/fill.bin", "enospc.drak-test.example"));
    auto opts = run.options();
    opts.writable_quota_bytes = 32ull << 20;
    run.analyze(opts, sample, "fill.sh", "linux", 30);
    EXPECT_TRUE(resolved(run, "enospc.drak-test.example"));
    auto q = quota_record(run);
    ASSERT_TRUE(q.is_object()) << util::read_file(run.out / "drakmon.log").substr(0, 4000);
    EXPECT_EQ(q["Location"], "/home/user");
    EXPECT_EQ(q["LimitBytes"], 32ull << 20);
    EXPECT_TRUE(mounts_below(run.scratch_root).empty());

    // Below the quota: no record.
    NativeRun small;
    fs::path ok = small.tmp.path() / "small.sh";
    util::write_file_atomic(ok, "#!/bin/sh\ndd if=/dev/zero of=/home/user/s.bin bs=1M count=4\n");
    small.analyze(opts, ok, "small.sh", "linux", 30);
    EXPECT_TRUE(quota_record(small).is_null());
}

// The tracer's output dir is writable by the sample's uid: writing 200 MB there hits its own
// quota (not the host disk) and the analysis finishes.
TEST(WritableQuota, ElfFillingTheTraceDirGetsEnospcAndTheAnalysisFinishes) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    NativeRun run;
    fs::path sample = run.tmp.path() / "fill-out.sh";
    util::write_file_atomic(sample,
                            fill_script("/analysis/out/junk.bin", "outfull.drak-test.example"));
    auto opts = run.options();
    opts.trace_quota_bytes = 16ull << 20;
    run.analyze(opts, sample, "fill-out.sh", "linux", 30);
    EXPECT_TRUE(resolved(run, "outfull.drak-test.example"));
    auto q = quota_record(run);
    ASSERT_TRUE(q.is_object()) << util::read_file(run.out / "drakmon.log").substr(0, 4000);
    EXPECT_EQ(q["Location"], "/analysis/out (trace and dumps)");
    EXPECT_EQ(q["LimitBytes"], 16ull << 20);
    EXPECT_TRUE(mounts_below(run.scratch_root).empty());
    std::error_code ec;
    EXPECT_TRUE(fs::is_empty(run.scratch_root, ec));
}

// tracing=false (the benchmark baseline): same sandbox and netsim, no tracer records.
TEST(Untraced, ElfRunsInTheSameSandboxWithoutTracerRecords) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    NativeRun run;
    fs::path sample = run.tmp.path() / "beacon.sh";
    util::write_file_atomic(
        sample, "#!/bin/sh\necho x > /tmp/x\ngetent hosts untraced.drak-test.example\n");
    auto opts = run.options();
    opts.tracing = false;
    run.analyze(opts, sample, "beacon.sh", "linux", 20);
    auto inject = run.records_of("inject");
    ASSERT_EQ(inject.size(), 1u);
    EXPECT_EQ(inject[0]["Status"], "Success");
    EXPECT_EQ(inject[0]["ProcessName"], "/home/user/beacon.sh");
    EXPECT_TRUE(resolved(run, "untraced.drak-test.example"));
    EXPECT_TRUE(run.records_of("procmon").empty());
    EXPECT_TRUE(run.records_of("filetracer").empty());
}

// A sample that opens a window: Wine's desktop process (explorer.exe /desktop) and the rest of
// the infrastructure come from the warm-up, never from the sample; with warm_up=false they are
// the sample's children (which is what the warm-up is for).
TEST(ProcessTree, WindowSampleHasNoWineInfrastructureChildren) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    ASSERT_TRUE(wine64_available());
    ASSERT_TRUE(fs::exists(program("pe_window64.exe"))) << "build target test_programs";
    for (bool warm_up : {true, false}) {
        NativeRun run;
        auto opts = run.options();
        opts.warm_up = warm_up;
        auto res = run.analyze(opts, program("pe_window64.exe"), "pe_window64.exe", "win64", 60);
        postprocess::ProcessTreeBuilder builder;
        for (const auto& l : run.lines_of("procmon")) {
            builder.add_line(l);
        }
        auto tree = builder.finish();
        const std::string text = describe(tree);
        bool found = false;
        for (const auto& p : tree.processes) {
            if (p.pid != res.injected_pid) {
                continue;
            }
            found = true;
            std::set<std::string> children;
            for (auto c : p.children) {
                children.insert(tree.processes[c].procname);
            }
            if (warm_up) {
                EXPECT_TRUE(children.empty()) << text;
            } else {
                EXPECT_TRUE(children.count("C:\\windows\\system32\\wineboot.exe")) << text;
                EXPECT_TRUE(children.count("C:\\windows\\system32\\explorer.exe")) << text;
            }
        }
        EXPECT_TRUE(found) << text;
    }
}

// Early exit never cuts a run short while a reported process lives: cmd.exe starts the
// sleeper and exits at once; the analysis lasts until the timeout and logs the sleeper.
// A sample whose tree has exited ends well before the timeout.
TEST(EarlyExit, WaitsForProcessesThatOutliveTheSampleAndEndsWhenAllExited) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    ASSERT_TRUE(wine64_available());
    ASSERT_TRUE(fs::exists(program("pe_sleeper64.exe"))) << "build target test_programs";
    {
        NativeRun run;
        auto start = std::chrono::steady_clock::now();
        run.analyze(run.options(), program("pe_sleeper64.exe"), "pe_sleeper64.exe", "win64", 6,
                    "start \"\" \"%f\"");
        EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
        bool sleeper = false;
        for (const auto& r : run.records_of("procmon")) {
            sleeper = sleeper ||
                      r.value("ImagePathName", "").find("pe_sleeper64.exe") != std::string::npos;
        }
        EXPECT_TRUE(sleeper);
        EXPECT_FALSE(run.said("the sample's processes have exited: stopping Wine"));
    }
    {
        NativeRun run;
        auto start = std::chrono::steady_clock::now();
        run.analyze(run.options(), program("pe_window64.exe"), "pe_window64.exe", "win64", 60);
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
        EXPECT_TRUE(run.said("the sample's processes have exited: stopping Wine"));
        bool exited = false;
        for (const auto& r : run.records_of("procmon")) {
            exited = exited || r.value("Method", "") == "MmCleanProcessAddressSpace";
        }
        EXPECT_TRUE(exited);
    }
}

}  // namespace
}  // namespace engine::native
