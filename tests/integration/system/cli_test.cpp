// End-to-end tests of the drak-system executable on real redis-server + s3rver: config file
// loading, --setup-bucket (§9.3), routing, GC of a Finished task with --gc-interval, clean exit
// 0 on SIGTERM, exit 1 when the bucket is missing, router-only + gc-only instances side by side.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "s3/client.hpp"
#include "support/paths.hpp"
#include "support/s3_server.hpp"
#include "system_env.hpp"
#include "util/fs.hpp"

namespace json = karton::json;

namespace {

struct CliFixture : ::testing::Test {
    system_test::RedisEnv env;
    test_support::S3Server s3server;
    util::TempDir dir;
    std::string config_path;
    std::vector<pid_t> children;

    // A failed ASSERT returns before the test reaps its drak-system processes; left running
    // they would retry Redis forever and keep ctest's output pipe open (a 600 s timeout).
    ~CliFixture() override {
        for (const pid_t pid : children) {
            if (::kill(pid, SIGKILL) == 0) {
                ::waitpid(pid, nullptr, 0);
            }
        }
    }

    CliFixture() {
        config_path = (dir.path() / "config.ini").string();
        std::ofstream out(config_path);
        out << "[redis]\nhost = 127.0.0.1\nport = " << env.redis.port() << "\n"
            << "[s3]\naddress = " << s3server.endpoint()
            << "\naccess_key = " << s3server.access_key()
            << "\nsecret_key = " << s3server.secret_key()
            << "\nbucket = karton\n[system]\ngc_interval = 1\n";
    }

    pid_t spawn(std::vector<std::string> args) {
        const std::string exe = (test_support::binary_dir() / "bin" / "drak-system").string();
        args.insert(args.begin(), {exe, "--config-file", config_path});
        const pid_t pid = ::fork();
        if (pid == 0) {
            std::vector<char*> argv;
            for (auto& a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            ::execv(exe.c_str(), argv.data());
            ::_exit(127);
        }
        children.push_back(pid);
        return pid;
    }

    // wait_exit reaps `pid` (SIGKILL after `limit`) and forgets it, so the destructor never
    // signals a pid the kernel may have reused.
    int wait_exit(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(30)) {
        std::erase(children, pid);
        const auto until = std::chrono::steady_clock::now() + limit;
        int status = 0;
        while (std::chrono::steady_clock::now() < until) {
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
    }

    static bool wait_for(const std::function<bool()>& cond) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < until) {
            if (cond()) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return cond();
    }
};

TEST_F(CliFixture, MissingBucketWithoutSetupExitsOne) { EXPECT_EQ(wait_exit(spawn({})), 1); }

TEST_F(CliFixture, RoutesCollectsAndStopsOnSigterm) {
    env.bind("karton.a", json::parse(R"([{"type": "sample"}])"));
    const pid_t pid = spawn({"--setup-bucket"});
    const auto uid = env.produce({{"type", "sample"}});
    ASSERT_TRUE(wait_for([&] { return env.llen("karton.queue.normal:karton.a") == 1; }));
    // The unrouted task is Finished after routing; GC (interval 1 s) then deletes it.
    ASSERT_TRUE(wait_for([&] { return !env.exists(uid); }));
    ::kill(pid, SIGTERM);
    EXPECT_EQ(wait_exit(pid), 0);
}

TEST_F(CliFixture, RouterOnlyAndGcOnlySideBySide) {
    env.bind("karton.a", json::parse(R"([{"type": "sample"}])"));
    const pid_t router = spawn({"--setup-bucket", "--disable-gc"});
    const pid_t gc = spawn({"--setup-bucket", "--disable-router"});
    std::vector<std::string> uids;
    for (int i = 0; i < 50; ++i) {
        uids.push_back(env.produce({{"type", "sample"}}));
    }
    ASSERT_TRUE(wait_for([&] { return env.llen("karton.queue.normal:karton.a") == 50; }));
    ASSERT_TRUE(wait_for([&] {
        for (const auto& u : uids) {
            if (env.exists(u)) {
                return false;
            }
        }
        return true;
    }));
    // Forks (Spawned) survive GC.
    for (const auto& f : env.list("karton.queue.normal:karton.a")) {
        EXPECT_TRUE(env.exists(f));
    }
    ::kill(router, SIGTERM);
    ::kill(gc, SIGTERM);
    EXPECT_EQ(wait_exit(router), 0);
    EXPECT_EQ(wait_exit(gc), 0);
}

}  // namespace
