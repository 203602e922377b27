// The draksetup executable (issue 8): init --unattended with a real redis-server + s3rver into
// a temp config path, exit codes and messages for unreachable services and bad usage.
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include <gtest/gtest.h>

#include "karton/config.hpp"
#include "support/paths.hpp"
#include "support/redis_server.hpp"
#include "support/s3_server.hpp"
#include "util/fs.hpp"

namespace {

namespace fs = std::filesystem;

struct Run {
    int status = -1;
    std::string output;  // stdout + stderr
};

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

Run run(const std::vector<std::string>& args) {
    std::string cmd = quote((test_support::binary_dir() / "bin" / "draksetup").string());
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " </dev/null 2>&1";
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

TEST(DraksetupCli, InitUnattendedThenUnreachableRedis) {
    test_support::RedisServer redis;
    test_support::S3Server s3;
    util::TempDir dir("drak-setup-cli");
    auto config = dir.path() / "drakrun" / "config.ini";
    std::vector<std::string> common = {
        "--config-file",
        config.string(),
        "init",
        "--unattended",
        "--template",
        (test_support::source_dir() / "data" / "config.ini").string(),
        "--redis-host",
        "127.0.0.1",
        "--s3-address",
        "127.0.0.1:" + std::to_string(s3.port()),
        "--s3-access-key",
        s3.access_key(),
        "--s3-secret-key",
        s3.secret_key(),
        "--only",
        "web",
        "--only",
        "drakrun",
        "--no-systemd"};
    auto ok_args = common;
    ok_args.insert(ok_args.end(), {"--redis-port", std::to_string(redis.port())});
    auto r = run(ok_args);
    ASSERT_EQ(r.status, 0) << r.output;
    auto cfg = karton::Config::load_ini_file(config);
    EXPECT_EQ(cfg.get("s3", "address"), s3.endpoint());
    EXPECT_EQ(cfg.get("redis", "port"), std::to_string(redis.port()));
    EXPECT_NE(r.output.find("done"), std::string::npos) << r.output;

    std::string before = util::read_file(config);
    auto bad_args = common;
    int dead = test_support::free_loopback_port();
    bad_args.insert(bad_args.end(), {"--redis-port", std::to_string(dead)});
    auto bad = run(bad_args);
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find("cannot connect to Redis at 127.0.0.1:" + std::to_string(dead)),
              std::string::npos)
        << bad.output;
    EXPECT_EQ(util::read_file(config), before) << "nothing written on failure";
}

TEST(DraksetupCli, UsageErrors) {
    EXPECT_NE(run({}).status, 0);
    auto r = run({"init", "--only", "xen"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("--only"), std::string::npos) << r.output;
    EXPECT_NE(run({"scale", "-1"}).status, 0);
}

TEST(DraksetupCli, SanityListsChecksAndExitsFiveWhenXenIsMissing) {
    util::TempDir dir("drak-setup-cli");
    auto r =
        run({"--config-file", (dir.path() / "none.ini").string(), "sanity", "--engine", "xen"});
    EXPECT_EQ(r.status, 5) << r.output;
    EXPECT_NE(r.output.find("[FAIL] xen hypervisor"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("not running under Xen"), std::string::npos) << r.output;
}

TEST(DraksetupCli, SanityNativePrintsOneLinePerCheck) {
    util::TempDir dir("drak-setup-cli");
    auto r = run({"--config-file", (dir.path() / "none.ini").string(), "sanity"});
    EXPECT_TRUE(r.status == 0 || r.status == 5) << r.output;
    EXPECT_NE(r.output.find("engine: native"), std::string::npos) << r.output;
    EXPECT_TRUE(r.output.find("[ ok ] ") != std::string::npos ||
                r.output.find("[FAIL] ") != std::string::npos)
        << r.output;
    EXPECT_EQ(r.status == 0, r.output.find("[FAIL] ") == std::string::npos) << r.output;
}

}  // namespace
