// Fault injection (issue 10): the worker's analysis directory is a small tmpfs (mounted in the
// test's private mount namespace, so nothing leaks to the host) that the analysis output
// overflows. The task ends Crashed with "No space left on device" in its error and status
// record, no analysis task is emitted, and the same worker serves the next task once space is
// freed (tmpfs remounted larger).
#include <sys/mount.h>

#include <gtest/gtest.h>

#include "drakrun/worker.hpp"
#include "engine/engine_factory.hpp"
#include "karton/resource.hpp"
#include "reliability_env.hpp"

namespace json = karton::json;
namespace fs = std::filesystem;
using karton_test::KartonEnv;

namespace {

TEST(DiskFull, AnalysisOverflowingTheWorkDirCrashesCleanlyAndTheWorkerServesOn) {
    ASSERT_TRUE(reliability::isolated()) << "fault-injection tests must run as root";
    reliability::bring_up_loopback();
    KartonEnv env;
    util::TempDir dir("fi-disk");
    const fs::path work = dir.path() / "work";
    fs::create_directories(work);
    ASSERT_EQ(::mount("tmpfs", work.c_str(), "tmpfs", 0, "size=48k"), 0) << std::strerror(errno);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{work};

    const std::string id = "karton.fi-drakrun";
    drakrun::WorkerSettings ws;
    ws.identity = id;
    ws.work_dir = work.string();
    ws.analysis_timeout = 10;
    ws.attempts = 1;
    ws.plugins = {"procmon", "filetracer", "socketmon", "memdump"};
    auto engine = reliability::native_engine(dir.path() / "scratch");
    drakrun::Worker worker(env.settings, ws, std::move(engine), 1,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    std::atomic<bool> returned{false};
    std::thread th([&] {
        worker.run();
        returned = true;
    });
    auto send = [&](const std::string& analysis_uid) {
        return reliability::send_elf_sample(env, id, analysis_uid);
    };
    auto llen = [&](const std::string& key) {
        return env.backend()->connection().command({"LLEN", key}).as_integer();
    };

    const std::string first = send("fi-disk-1");
    ASSERT_TRUE(KartonEnv::wait_for(
        [&] {
            auto s = env.task(first).status;
            return s == karton::Status::Crashed || s == karton::Status::Finished;
        },
        std::chrono::seconds(60)));
    EXPECT_EQ(env.task(first).status, karton::Status::Crashed);
    const std::string error = json::dump(env.task(first).error);
    EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
    std::printf("first task error: %s\n", error.c_str());
    auto status = env.backend()->connection().command({"GET", "drakrun.analysis:fi-disk-1"});
    EXPECT_NE(status.as_string().find("crashed"), std::string::npos) << status.as_string();
    EXPECT_EQ(llen("karton.tasks"), 0) << "no (partial) analysis task for a failed analysis";
    EXPECT_FALSE(returned.load());

    // Free space: remount larger; the same worker serves the next task.
    ASSERT_EQ(::mount("tmpfs", work.c_str(), "tmpfs", MS_REMOUNT, "size=512m"), 0)
        << std::strerror(errno);
    const std::string second = send("fi-disk-2");
    ASSERT_TRUE(KartonEnv::wait_for(
        [&] {
            auto s = env.task(second).status;
            return s == karton::Status::Crashed || s == karton::Status::Finished;
        },
        std::chrono::seconds(60)));
    EXPECT_EQ(env.task(second).status, karton::Status::Finished)
        << json::dump(env.task(second).error);
    EXPECT_EQ(llen("karton.tasks"), 1);
    EXPECT_FALSE(returned.load());
    worker.request_stop();
    th.join();
    reliability::fault_summary(
        "disk_full", 1, 2, env.task(second).status == karton::Status::Finished ? 1 : 0, 0, 0,
        "crashed with ENOSPC " +
            std::to_string(error.find("No space left on device") != std::string::npos ? 1 : 0));
}

}  // namespace
