// The drakvuf-sandbox deb (issue 8 "Packaging"): cpack -G DEB in the build dir, the control
// data and file list checked with dpkg-deb -I / -c, maintainer scripts that start nothing, and
// the packaged draksetup (extracted with dpkg-deb -x) running `init --unattended` against a real
// redis-server + s3rver into a temp config path, using the packaged template.
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
    std::string output;
};

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

Run sh(const std::string& cmd) {
    Run r;
    FILE* p = ::popen((cmd + " </dev/null 2>&1").c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

class DebTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new util::TempDir("drak-deb-test");
        auto config = test_support::binary_dir() / "CPackConfig.cmake";
        if (!fs::exists(config)) {
            error_ = "no " + config.string() +
                     ": packaging/ is not part of this build (top-level CMakeLists.txt needs "
                     "add_subdirectory(packaging))";
            return;
        }
        auto r = sh("cd " + quote(dir_->path().string()) + " && cpack -G DEB --config " +
                    quote(config.string()) + " -B " + quote(dir_->path().string()));
        for (const auto& e : fs::directory_iterator(dir_->path())) {
            if (e.path().extension() == ".deb") deb_ = e.path();
        }
        if (r.status != 0 || deb_.empty()) error_ = "cpack failed:\n" + r.output;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override { ASSERT_TRUE(error_.empty()) << error_; }

    static util::TempDir* dir_;
    static fs::path deb_;
    static std::string error_;
};

util::TempDir* DebTest::dir_ = nullptr;
fs::path DebTest::deb_;
std::string DebTest::error_;

TEST_F(DebTest, ControlInformation) {
    auto r = sh("dpkg-deb -I " + quote(deb_.string()));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("Package: drakvuf-sandbox"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Depends:"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("libhiredis"), std::string::npos) << "shlibdeps ran: " << r.output;
    EXPECT_NE(r.output.find("Recommends: redis-server"), std::string::npos) << r.output;
    for (const char* script : {"postinst", "prerm", "postrm"}) {
        EXPECT_NE(r.output.find(script), std::string::npos) << script;
    }
}

TEST_F(DebTest, Contents) {
    auto r = sh("dpkg-deb -c " + quote(deb_.string()));
    ASSERT_EQ(r.status, 0) << r.output;
    for (const char* path :
         {"./usr/bin/drakrun", "./usr/bin/drak-system", "./usr/bin/drak-web", "./usr/bin/draksetup",
          "./usr/bin/drak-trace-elf", "./usr/share/drakrun/config.ini.example",
          "./usr/share/drakrun/hooks.txt", "./usr/lib/systemd/system/drak-system.service",
          "./usr/lib/systemd/system/drak-web.service", "./usr/lib/systemd/system/drakrun@.service",
          "./usr/share/doc/drakvuf-sandbox/setup.md"}) {
        EXPECT_NE(r.output.find(std::string(path) + "\n"), std::string::npos) << path;
    }
    // The configuration is created by draksetup, never shipped (no conffile with secrets).
    EXPECT_EQ(r.output.find("./etc/drakrun/config.ini"), std::string::npos);
    if (fs::is_regular_file(test_support::source_dir() / "web" / "dist" / "index.html")) {
        EXPECT_NE(r.output.find("./usr/share/drakrun/web/index.html"), std::string::npos);
    }
}

TEST_F(DebTest, MaintainerScriptsStartNothing) {
    auto ctl = dir_->path() / "control";
    auto r = sh("dpkg-deb -e " + quote(deb_.string()) + " " + quote(ctl.string()));
    ASSERT_EQ(r.status, 0) << r.output;
    auto postinst = util::read_file(ctl / "postinst");
    // Commands only (comments may explain that nothing starts).
    std::string code;
    std::size_t pos = 0;
    while (pos < postinst.size()) {
        auto nl = postinst.find('\n', pos);
        if (nl == std::string::npos) nl = postinst.size();
        auto line = postinst.substr(pos, nl - pos);
        auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && line[first] != '#') code += line + "\n";
        pos = nl + 1;
    }
    ASSERT_NE(code.find("mkdir -p /etc/drakrun"), std::string::npos) << code;
    for (const char* forbidden : {"start", "enable", "--now", "invoke-rc.d", "restart"}) {
        EXPECT_EQ(code.find(forbidden), std::string::npos) << forbidden << " in\n" << code;
    }
    EXPECT_NE(postinst.find("draksetup init"), std::string::npos);
    EXPECT_EQ(sh("sh -n " + quote((ctl / "postinst").string())).status, 0);
    EXPECT_EQ(sh("sh -n " + quote((ctl / "prerm").string())).status, 0);
    EXPECT_EQ(sh("sh -n " + quote((ctl / "postrm").string())).status, 0);
}

TEST_F(DebTest, PackagedDraksetupInitUnattended) {
    auto root = dir_->path() / "root";
    auto x = sh("dpkg-deb -x " + quote(deb_.string()) + " " + quote(root.string()));
    ASSERT_EQ(x.status, 0) << x.output;
    test_support::RedisServer redis;
    test_support::S3Server s3;
    auto config = dir_->path() / "etc" / "drakrun" / "config.ini";
    auto r = sh(quote((root / "usr" / "bin" / "draksetup").string()) + " --config-file " +
                quote(config.string()) + " init --unattended --no-systemd --redis-host 127.0.0.1" +
                " --redis-port " + std::to_string(redis.port()) + " --s3-address " +
                quote(s3.endpoint()) + " --s3-access-key " + quote(s3.access_key()) +
                " --s3-secret-key " + quote(s3.secret_key()));
    ASSERT_EQ(r.status, 0) << r.output;
    // The packaged template was found next to the executable (not the source tree).
    EXPECT_NE(r.output.find((root / "usr" / "share" / "drakrun" / "config.ini.example").string()),
              std::string::npos)
        << r.output;
    auto cfg = karton::Config::load_ini_file(config);
    EXPECT_EQ(cfg.get("redis", "port"), std::to_string(redis.port()));
    EXPECT_EQ(cfg.get("s3", "address"), s3.endpoint());
}

}  // namespace
