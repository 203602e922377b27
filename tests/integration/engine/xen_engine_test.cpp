// End-to-end tests of XenEngine against the stand-in executables in tests/support/xen_doubles
// (test doubles of xl, injector, drakvuf, tcpdump, dnsmasq, iptables, ip, qemu-img, rm). The
// drakvuf double replays real DRAKVUF output from shared/fixtures/drakvuf; every double records
// its argv so the tests assert the orchestration and the teardown after each failure path.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>

#include <fstream>
#include <sstream>

#include "engine/xen/xen_engine.hpp"
#include "support/paths.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

using namespace engine;
using namespace engine::xen;
using Strings = std::vector<std::string>;

namespace {

std::filesystem::path doubles_dir() {
    return test_support::source_dir() / "tests" / "support" / "xen_doubles";
}

class XenEngineTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ = std::make_unique<util::TempDir>("xen-test");
        const auto& r = root_->path();
        std::filesystem::create_directories(r / "volumes");
        std::filesystem::create_directories(r / "profiles");
        std::filesystem::create_directories(r / "out");
        util::write_file_atomic(r / "volumes" / "snapshot.sav", "xl save image (test)");
        struct timespec times[2] = {{1700000000, 0}, {1700000555, 0}};
        ::utimensat(AT_FDCWD, (r / "volumes" / "snapshot.sav").c_str(), times, 0);
        util::write_file_atomic(r / "profiles" / "kernel.json", "{}");
        util::write_file_atomic(r / "profiles" / "amd64_ntdll_profile.json", "{}");
        util::write_file_atomic(r / "runtime.json",
                                R"({"vmi_offsets": {"kpgd": 1744898}, "inject_pid": 3340})");
        util::write_file_atomic(r / "hooks.txt", "kernel32.dll,DeleteFileW,log,lpwstr\n");
        util::write_file_atomic(r / "sample.exe", "MZ not really");
        ::setenv("XEN_DOUBLES_LOG", (r / "calls.log").c_str(), 1);
        ::setenv("XEN_DOUBLES_FIXTURES",
                 (test_support::shared_dir() / "fixtures" / "drakvuf").c_str(), 1);
        ::setenv("XEN_DOUBLES_MODE", "", 1);
    }
    void TearDown() override {
        ::unsetenv("XEN_DOUBLES_LOG");
        ::unsetenv("XEN_DOUBLES_MODE");
        ::unsetenv("XEN_DOUBLES_FIXTURES");
    }

    XenEngineOptions options() const {
        const auto& r = root_->path();
        XenEngineOptions o;
        o.vm_id = 3;
        for (const char* t : {"xl", "injector", "drakvuf", "tcpdump", "dnsmasq", "iptables", "ip",
                              "qemu-img", "rm"}) {
            o.tools[t] = (doubles_dir() / t).string();
        }
        o.storage.volumes_dir = r / "volumes";
        o.profiles_dir = r / "profiles";
        o.runtime_file = r / "runtime.json";
        o.hooks_file = r / "hooks.txt";
        o.work_dir = r / "work";
        o.drakvuf_grace = std::chrono::milliseconds(1500);
        o.log_stall_warning = std::chrono::milliseconds(1000);
        o.out_interface = "eth0";
        return o;
    }

    AnalysisRequest request() const {
        AnalysisRequest q;
        q.sample_path = root_->path() / "sample.exe";
        q.file_name = "sample.exe";
        q.platform = "win64";
        q.plugins = {"procmon", "apimon"};
        q.timeout_s = 1;
        q.output_dir = root_->path() / "out";
        return q;
    }

    // calls returns the recorded calls, each split at tabs, with the double's path prefix gone.
    std::vector<Strings> calls() const {
        std::vector<Strings> out;
        std::ifstream in(root_->path() / "calls.log");
        std::string line;
        while (std::getline(in, line)) {
            Strings f;
            std::stringstream ss(line);
            std::string part;
            while (std::getline(ss, part, '\t')) {
                f.push_back(part);
            }
            out.push_back(f);
        }
        return out;
    }
    std::vector<std::string> call_lines() const {
        std::vector<std::string> out;
        for (const auto& c : calls()) {
            std::string s;
            for (const auto& a : c) {
                s += (s.empty() ? "" : " ") + a;
            }
            out.push_back(s);
        }
        return out;
    }
    bool called(const std::string& prefix) const {
        for (const auto& l : call_lines()) {
            if (l.rfind(prefix, 0) == 0) {
                return true;
            }
        }
        return false;
    }
    std::size_t index_of(const std::string& prefix) const {
        auto lines = call_lines();
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (lines[i].rfind(prefix, 0) == 0) {
                return i;
            }
        }
        return static_cast<std::size_t>(-1);
    }

    // expect_full_teardown: domain destroyed, network undone, overlay removed, helpers stopped.
    void expect_full_teardown(bool domain_restored = true) const {
        if (domain_restored) {
            EXPECT_TRUE(called("xl destroy vm-3"));
        }
        EXPECT_TRUE(called("ip link del drak3"));
        EXPECT_TRUE(called("dnsmasq-stopped"));
        EXPECT_TRUE(called("rm -f " + (root_->path() / "volumes" / "vm-3.img").string()));
        // Every iptables -A has a matching -D with the same rule.
        std::vector<std::string> adds;
        std::vector<std::string> dels;
        for (auto c : calls()) {
            if (c.size() > 2 && c[0] == "iptables") {
                auto pos = std::find(c.begin(), c.end(), std::string(c[1] == "-t" ? c[3] : c[1]));
                std::string op = *pos;
                *pos = "X";
                std::string s;
                for (const auto& a : c) {
                    s += a + " ";
                }
                (op == "-A" ? adds : dels).push_back(s);
            }
        }
        EXPECT_FALSE(adds.empty());
        std::sort(adds.begin(), adds.end());
        std::sort(dels.begin(), dels.end());
        EXPECT_EQ(adds, dels);
        // Teardown order: domain destroyed before its network, overlay removed last.
        EXPECT_LT(index_of("ip link del drak3"), index_of("rm -f"));
        if (domain_restored) {
            EXPECT_LT(index_of("xl destroy"), index_of("ip link del drak3"));
        }
    }

    std::unique_ptr<util::TempDir> root_;
};

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_F(XenEngineTest, FullCycleProducesDrakmonLogFromFixtures) {
    XenEngine engine(options());
    std::vector<std::string> stages;
    auto res = engine.analyze(
        request(), [&](const std::string& s, const std::string&) { stages.push_back(s); });
    const auto& r = root_->path();
    EXPECT_EQ(res.snapshot_version, 1700000555);
    EXPECT_EQ(res.start_command, "C:\\Users\\user\\Desktop\\sample.exe");
    EXPECT_EQ(res.injected_pid, 4852);  // from the replayed real inject record
    EXPECT_GE(res.time_finished, res.time_started);

    // drakmon.log = inject + procmon + apimon fixtures, byte for byte.
    auto fx = test_support::shared_dir() / "fixtures" / "drakvuf" / "capa-testfiles-93b2d184";
    EXPECT_EQ(read_all(r / "out" / "drakmon.log"), read_all(fx / "inject.jsonl") +
                                                       read_all(fx / "procmon.jsonl") +
                                                       read_all(fx / "apimon.jsonl"));
    EXPECT_EQ(std::filesystem::file_size(r / "out" / "dumps.pcap"), 24u);
    EXPECT_TRUE(std::filesystem::exists(r / "out" / "dumps" / ".double-was-here"));

    // The exact drakvuf command line (§4.2) as the double saw it.
    const std::string out = (r / "out").string();
    const std::string prof = (r / "profiles").string();
    Strings drakvuf_call;
    for (auto& c : calls()) {
        if (c[0] == "drakvuf") {
            drakvuf_call = c;
        }
    }
    Strings expected = {"drakvuf",
                        "-a",
                        "apimon",
                        "-a",
                        "procmon",
                        "-o",
                        "json",
                        "-F",
                        "-j",
                        "60",
                        "-t",
                        "1",
                        "-i",
                        "3340",
                        "-k",
                        "0x1aa002",
                        "-d",
                        "vm-3",
                        "--dll-hooks-list",
                        (r / "hooks.txt").string(),
                        "--memdump-dir",
                        out + "/dumps",
                        "--ipt-dir",
                        out + "/ipt",
                        "--ipt-trace-user",
                        "--codemon-dump-dir",
                        out + "/ipt",
                        "--codemon-log-everything",
                        "--codemon-analyse-system-dll-vad",
                        "-r",
                        prof + "/kernel.json",
                        "-e",
                        "C:\\Users\\user\\Desktop\\sample.exe",
                        "-c",
                        "C:\\Users\\user\\Desktop",
                        "--json-ntdll",
                        prof + "/amd64_ntdll_profile.json"};
    EXPECT_EQ(drakvuf_call, expected);

    // Order of the cycle.
    auto lines = call_lines();
    const std::string cfg = (r / "work" / "vm-3.cfg").string();
    EXPECT_LT(index_of("qemu-img create"), index_of("ip link add drak3"));
    EXPECT_LT(index_of("dnsmasq"),
              index_of("xl -vvv restore " + cfg + " " + (r / "volumes" / "snapshot.sav").string()));
    EXPECT_LT(index_of("xl -vvv restore"), index_of("xl domid vm-3"));
    EXPECT_LT(index_of("xl domid vm-3"),
              index_of("injector -o json -d vm-3 -r " + prof +
                       "/kernel.json -i 3340 -k 0x1aa002 -m writefile -e "
                       "%USERPROFILE%\\Desktop\\sample.exe -B " +
                       (r / "sample.exe").string()));
    EXPECT_LT(index_of("injector"), index_of("tcpdump -i vif7.0-emu -w " + out + "/dumps.pcap"));
    EXPECT_LT(index_of("tcpdump -i"), index_of("drakvuf"));
    EXPECT_LT(index_of("drakvuf"), index_of("tcpdump-stopped"));
    EXPECT_FALSE(called("injector -o json -d vm-3 -r " + prof +
                        "/kernel.json -i 3340 -k 0x1aa002 -m createproc"));
    expect_full_teardown();

    // Domain config rendered from the template with the overlay and the bridge.
    auto cfg_text = read_all(cfg);
    EXPECT_NE(cfg_text.find("'tap:qcow2:" + (r / "volumes" / "vm-3.img").string() + ",xvda,w'"),
              std::string::npos);
    EXPECT_NE(cfg_text.find("bridge=drak3"), std::string::npos);
    EXPECT_NE(std::find(stages.begin(), stages.end(), "drakvuf"), stages.end());
}

TEST_F(XenEngineTest, NetEnableRenewsLeaseAndAllowsInternet) {
    XenEngine engine(options());
    auto q = request();
    q.net_enable = true;
    q.start_command = "cmd /c start %f";
    auto res = engine.analyze(q, {});
    EXPECT_EQ(res.start_command, "cmd /c start C:\\Users\\user\\Desktop\\sample.exe");
    EXPECT_TRUE(called("iptables -t nat -A POSTROUTING -s 10.13.3.0/24 -o eth0 -j MASQUERADE"));
    EXPECT_TRUE(called("iptables -A FORWARD -i drak3 -o eth0 -j ACCEPT"));
    EXPECT_FALSE(called("iptables -A FORWARD -i drak3 -j DROP"));
    auto release = index_of(
        "injector -o json -d vm-3 -r " + (root_->path() / "profiles").string() +
        "/kernel.json -i 3340 -k 0x1aa002 -m createproc -e cmd /C ipconfig /release >nul -w");
    auto renew = index_of(
        "injector -o json -d vm-3 -r " + (root_->path() / "profiles").string() +
        "/kernel.json -i 3340 -k 0x1aa002 -m createproc -e cmd /C ipconfig /renew >nul -w");
    EXPECT_LT(release, renew);
    EXPECT_LT(renew, index_of("drakvuf"));
    expect_full_teardown();
}

TEST_F(XenEngineTest, RestoreFailureIsRetryableAndTearsDown) {
    ::setenv("XEN_DOUBLES_MODE", "restore_fail", 1);
    XenEngine engine(options());
    try {
        engine.analyze(request(), {});
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("VM restore failed"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("restore failed (test double)"), std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(called("injector"));
    EXPECT_FALSE(called("drakvuf"));
    expect_full_teardown();
}

TEST_F(XenEngineTest, CopyFailureTearsDown) {
    ::setenv("XEN_DOUBLES_MODE", "copy_fail", 1);
    XenEngine engine(options());
    try {
        engine.analyze(request(), {});
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_NE(std::string(e.what()).find("ERROR_ACCESS_DENIED"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(called("drakvuf"));
    expect_full_teardown();
}

TEST_F(XenEngineTest, InjectionUnsuccessfulIsNotRetryableWithInjectorError) {
    ::setenv("XEN_DOUBLES_MODE", "inject_error", 1);
    XenEngine engine(options());
    try {
        engine.analyze(request(), {});
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_STREQ(
            e.what(),
            "Injection succeeded but sample startup failed with error: ERROR_VIRUS_INFECTED");
    }
    EXPECT_TRUE(called("tcpdump-stopped"));
    expect_full_teardown();
}

TEST_F(XenEngineTest, DrakvufCrashIsRetryableAndTearsDown) {
    ::setenv("XEN_DOUBLES_MODE", "crash", 1);
    XenEngine engine(options());
    try {
        engine.analyze(request(), {});
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("KILLED_BY_SIGNAL_11"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("drakvuf banner (test double)"), std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(called("tcpdump-stopped"));
    expect_full_teardown();
}

TEST_F(XenEngineTest, HungDrakvufIsKilledAfterTimeoutPlusGraceWithStallWarning) {
    ::setenv("XEN_DOUBLES_MODE", "hang", 1);
    XenEngine engine(options());
    std::vector<std::string> warnings;
    auto t0 = std::chrono::steady_clock::now();
    try {
        engine.analyze(request(), [&](const std::string& stage, const std::string& msg) {
            if (stage == "watchdog") {
                warnings.push_back(msg);
            }
        });
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_TRUE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("drakvuf hung"), std::string::npos) << e.what();
    }
    auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(elapsed, std::chrono::milliseconds(2500));  // timeout 1 s + grace 1.5 s
    EXPECT_LT(elapsed, std::chrono::seconds(30));
    ASSERT_FALSE(warnings.empty());
    EXPECT_NE(warnings[0].find("drakmon.log has not grown"), std::string::npos);
    // The inject record written before the hang is still in drakmon.log.
    EXPECT_NE(read_all(root_->path() / "out" / "drakmon.log").find("\"Plugin\": \"inject\""),
              std::string::npos);
    expect_full_teardown();
}

TEST_F(XenEngineTest, NetworkSetupFailureUndoesWhatWasDone) {
    ::setenv("XEN_DOUBLES_MODE", "iptables_fail", 1);
    XenEngine engine(options());
    EXPECT_THROW(engine.analyze(request(), {}), EngineError);
    EXPECT_TRUE(called("ip link del drak3"));
    EXPECT_FALSE(called("xl -vvv restore"));
    EXPECT_FALSE(called("dnsmasq"));
    EXPECT_TRUE(called("rm -f"));
}

TEST_F(XenEngineTest, MissingSnapshotStartsNothing) {
    std::filesystem::remove(root_->path() / "volumes" / "snapshot.sav");
    XenEngine engine(options());
    try {
        engine.analyze(request(), {});
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_NE(std::string(e.what()).find("snapshot"), std::string::npos);
    }
    EXPECT_TRUE(calls().empty());
}

TEST_F(XenEngineTest, LinuxPlatformRejected) {
    XenEngine engine(options());
    EXPECT_FALSE(engine.supports_platform("linux"));
    EXPECT_TRUE(engine.supports_platform("win32"));
    auto q = request();
    q.platform = "linux";
    try {
        engine.analyze(q, {});
        FAIL();
    } catch (const EngineError& e) {
        EXPECT_FALSE(e.retryable());
    }
}

TEST_F(XenEngineTest, SanityOnThisHostSaysXenIsMissing) {
    auto o = options();
    o.tools.clear();  // real PATH lookup: this machine has no Xen tools
    o.tools["xl"] = "xl-not-installed-here";
    XenEngine engine(o);
    auto checks = engine.sanity();
    auto find = [&](const std::string& n) -> const SanityCheck* {
        for (const auto& c : checks) {
            if (c.name == n) {
                return &c;
            }
        }
        return nullptr;
    };
    const SanityCheck* hv = find("xen hypervisor");
    ASSERT_TRUE(hv);
    std::string type;
    try {
        type = util::read_file("/sys/hypervisor/type");
    } catch (const std::exception&) {
    }
    if (type.rfind("xen", 0) != 0) {
        EXPECT_FALSE(hv->ok);
        EXPECT_NE(hv->detail.find("not running under Xen"), std::string::npos) << hv->detail;
    }
    const SanityCheck* xl = find("tool xl");
    ASSERT_TRUE(xl);
    EXPECT_FALSE(xl->ok);
    EXPECT_NE(xl->detail.find("xen-utils"), std::string::npos);
    ASSERT_TRUE(find("xl info"));
    EXPECT_FALSE(find("xl info")->ok);
    ASSERT_TRUE(find("vm snapshot"));
    EXPECT_TRUE(find("vm snapshot")->ok);
    ASSERT_TRUE(find("kernel profile"));
    EXPECT_TRUE(find("kernel profile")->ok);
}

TEST_F(XenEngineTest, SanityWithDoublesSeesTools) {
    XenEngine engine(options());
    for (const auto& c : engine.sanity()) {
        if (c.name.rfind("tool ", 0) == 0 || c.name == "xl info" || c.name == "hooks file") {
            EXPECT_TRUE(c.ok) << c.name << ": " << c.detail;
        }
    }
}

TEST_F(XenEngineTest, BadDomainTemplateIsNonRetryableAndRemovesOverlay) {
    util::write_file_atomic(root_->path() / "tmpl.cfg", "name = '{{ EVIL }}'\n");
    auto o = options();
    o.domain_template = root_->path() / "tmpl.cfg";
    XenEngine engine(o);
    try {
        engine.analyze(request(), {});
        FAIL() << "expected EngineError";
    } catch (const EngineError& e) {
        EXPECT_FALSE(e.retryable());
        EXPECT_NE(std::string(e.what()).find("unknown placeholder {{ EVIL }}"), std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(called("qemu-img create"));
    EXPECT_TRUE(called("rm -f " + (root_->path() / "volumes" / "vm-3.img").string()));
    EXPECT_FALSE(called("xl"));
    EXPECT_FALSE(called("ip link add"));
}
