// Integration test for engine/native/stale_sweep: an engine process SIGKILLed mid-run leaves
// no sample process behind, and the start-up sweep removes its cgroup, netns and scratch dir.
#include "engine/native/stale_sweep.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "engine/native/netsim.hpp"
#include "engine/native/quota_fs.hpp"
#include "engine/native/sandbox.hpp"
#include "netns_guard.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

namespace fs = std::filesystem;

// running: the process exists and is not a zombie waiting for a reaper outside our control.
bool running(pid_t pid) {
    std::string stat;
    try {
        stat = util::read_file("/proc/" + std::to_string(pid) + "/stat");
    } catch (const util::Error&) {
        return false;
    }
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

TEST(StaleSweep, OwnerPidOfParsesOurNamesOnly) {
    EXPECT_EQ(owner_pid_of("drak-123-0"), 123);
    EXPECT_EQ(owner_pid_of("drak-123-0-s"), 123);
    EXPECT_EQ(owner_pid_of("drak-x-0"), 0);
    EXPECT_EQ(owner_pid_of("drak-123"), 0);
    EXPECT_EQ(owner_pid_of("other-123-0"), 0);
    EXPECT_EQ(owner_pid_of("process_api"), 0);
}

TEST(StaleSweep, EngineKilledMidRunLeavesNothingASweepDoesNotClean) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    util::TempDir tmp("swtest");
    ::chmod(tmp.path().c_str(), 0755);
    fs::path ready = tmp.path() / "ready";
    fs::path pids = tmp.path() / "pids";
    int pfd[2];
    ASSERT_EQ(::pipe(pfd), 0);
    pid_t engine = ::fork();
    ASSERT_GE(engine, 0);
    if (engine == 0) {
        // The "engine": one analysis with netsim + sandbox, then it waits to be killed.
        ::close(pfd[0]);
        try {
            std::string name = new_resource_name();
            fs::path scratch = tmp.path() / name;
            fs::create_directories(scratch);
            auto* net = new NetSim(name, scratch / "dumps.pcap", nullptr);
            // The writable quota (tmpfs) stays mounted below the scratch dir.
            auto* quota = new QuotaFs(scratch / "rw", 8u << 20, 1024);
            util::write_file_atomic(quota->dir() / "upper-file", "x");
            SandboxSpec spec;
            spec.name = name;
            spec.scratch = scratch;
            spec.netns = net->sample_netns();
            spec.env = {"PATH=/usr/bin:/bin"};
            auto* p = spawn_sandboxed(spec, {"/bin/sh", "-c", "sleep 300 & sleep 300"}).release();
            std::string line = name + " " + std::to_string(p->pid1_host_pid()) + "\n";
            ssize_t w = ::write(pfd[1], line.data(), line.size());
            (void)w;
        } catch (const std::exception& e) {
            std::string line = std::string("error ") + e.what() + "\n";
            ssize_t w = ::write(pfd[1], line.data(), line.size());
            (void)w;
        }
        ::close(pfd[1]);
        for (;;) {
            ::pause();
        }
    }
    ::close(pfd[1]);
    std::string msg;
    char buf[256];
    ssize_t n;
    // Read one line (the sandbox helper inherits the pipe, so EOF would never come).
    while (msg.find('\n') == std::string::npos && (n = ::read(pfd[0], buf, sizeof buf)) > 0) {
        msg.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pfd[0]);
    ASSERT_EQ(msg.rfind("drak-", 0), 0u) << msg;
    std::string name = msg.substr(0, msg.find(' '));
    pid_t pid1 = static_cast<pid_t>(std::stol(msg.substr(msg.find(' ') + 1)));
    ASSERT_GT(pid1, 0);
    EXPECT_TRUE(running(pid1));

    ::kill(engine, SIGKILL);
    int st = 0;
    ::waitpid(engine, &st, 0);

    // The sample tree dies with its engine (parent-death signals through the helper).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (running(pid1) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_FALSE(running(pid1));

    // What is left: the named resources; a restart's sweep removes them.
    EXPECT_TRUE(fs::exists(fs::path("/run/netns") / (name + "-s")));
    EXPECT_TRUE(fs::exists(tmp.path() / name));
    auto mounted = [&] {
        return util::read_file("/proc/self/mountinfo").find((tmp.path() / name / "rw").string()) !=
               std::string::npos;
    };
    EXPECT_TRUE(mounted());
    bool cg_left = false;
    for (const auto& d : cgroup_parent_dirs()) {
        cg_left = cg_left || fs::exists(d / name);
    }
    EXPECT_TRUE(cg_left);

    auto report = sweep_stale_resources({tmp.path()});
    EXPECT_TRUE(report.failed.empty());
    EXPECT_GE(report.removed.size(), 3u);
    EXPECT_FALSE(fs::exists(fs::path("/run/netns") / (name + "-s")));
    EXPECT_FALSE(fs::exists(fs::path("/run/netns") / (name + "-n")));
    EXPECT_FALSE(fs::exists(tmp.path() / name));
    EXPECT_FALSE(mounted());
    for (const auto& d : cgroup_parent_dirs()) {
        EXPECT_FALSE(fs::exists(d / name)) << d;
    }
}

}  // namespace
}  // namespace engine::native
