// draksetup init against a real redis-server and s3rver (issue 8 tests): empty dir, existing
// config (comments preserved, only given keys changed), prompts through stdin, unreachable
// Redis/S3 (clear error, nothing written), --only unit selection, systemd via a recording
// systemctl program, and scale.
#include "setup/init.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "karton/config.hpp"
#include "s3/client.hpp"
#include "setup/systemd.hpp"
#include "support/paths.hpp"
#include "support/redis_server.hpp"
#include "support/s3_server.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace {

namespace fs = std::filesystem;
using drak_setup::Component;
using drak_setup::InitOptions;
using drak_setup::run_init;
using drak_setup::SetupError;

fs::path template_path() { return test_support::source_dir() / "data" / "config.ini"; }

class InitTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        redis_ = new test_support::RedisServer();
        s3_ = new test_support::S3Server();
    }
    static void TearDownTestSuite() {
        delete redis_;
        delete s3_;
        redis_ = nullptr;
        s3_ = nullptr;
    }

    InitOptions base() const {
        InitOptions o;
        o.config_path = dir_.path() / "etc" / "config.ini";
        o.template_path = template_path();
        o.unattended = true;
        o.redis_host = "127.0.0.1";
        o.redis_port = redis_->port();
        o.s3_address = s3_->endpoint();
        o.s3_access_key = s3_->access_key();
        o.s3_secret_key = s3_->secret_key();
        o.systemd.run_dir = dir_.path() / "no-systemd";
        o.check_timeout = std::chrono::milliseconds(2000);
        return o;
    }

    bool bucket_exists(const std::string& b) {
        s3::Options o;
        o.endpoint = s3_->endpoint();
        o.access_key = s3_->access_key();
        o.secret_key = s3_->secret_key();
        s3::S3Client c(o);
        return c.bucket_exists(b);
    }

    static test_support::RedisServer* redis_;
    static test_support::S3Server* s3_;
    util::TempDir dir_{"drak-setup-test"};
};

test_support::RedisServer* InitTest::redis_ = nullptr;
test_support::S3Server* InitTest::s3_ = nullptr;

TEST_F(InitTest, CreatesConfigFromTemplateAndBuckets) {
    auto o = base();
    std::istringstream in;
    std::ostringstream out;
    auto r = run_init(o, in, out);
    EXPECT_TRUE(r.created);
    ASSERT_TRUE(fs::is_regular_file(o.config_path)) << out.str();
    struct stat st {};
    ASSERT_EQ(::stat(o.config_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "config holds secrets";

    auto cfg = karton::Config::load_ini_file(o.config_path);
    EXPECT_EQ(cfg.get("redis", "port"), std::to_string(redis_->port()));
    EXPECT_EQ(cfg.get("s3", "address"), s3_->endpoint());
    EXPECT_EQ(cfg.get("s3", "access_key"), s3_->access_key());
    EXPECT_EQ(cfg.get("s3", "secret_key"), s3_->secret_key());
    EXPECT_EQ(cfg.get("drakrun", "engine"), "native");  // template values kept
    // Comments of the template survive.
    auto text = util::read_file(o.config_path);
    EXPECT_NE(text.find("; Endpoint with scheme."), std::string::npos);
    EXPECT_TRUE(bucket_exists("karton"));
    EXPECT_TRUE(bucket_exists("drakrun"));
    EXPECT_NE(out.str().find("systemd is not running here"), std::string::npos) << out.str();
    EXPECT_FALSE(r.units_installed);
    EXPECT_EQ(r.units.size(), 3u);
    // Nothing else left in the directory (no temp files).
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(o.config_path.parent_path()))
        ++entries;
    EXPECT_EQ(entries, 1u);
}

TEST_F(InitTest, ExistingConfigKeepsCommentsAndChangesOnlyGivenKeys) {
    auto o = base();
    fs::create_directories(o.config_path.parent_path());
    std::string original =
        "; my own comment\n"
        "[redis]\n"
        "# operator note\n"
        "host = 10.0.0.1\n"
        "port = 1\n"
        "\n"
        "[s3]\n"
        "address = http://old:9000\n"
        "access_key = " +
        s3_->access_key() +
        "\n"
        "secret_key = " +
        s3_->secret_key() +
        "\n"
        "; keep me\n"
        "\n"
        "[drakrun]\n"
        "artifacts_bucket = custom-artifacts\n";
    util::write_file_atomic(o.config_path, original);
    ::chmod(o.config_path.c_str(), 0640);
    o.s3_access_key.reset();
    o.s3_secret_key.reset();
    std::istringstream in;
    std::ostringstream out;
    auto r = run_init(o, in, out);
    EXPECT_FALSE(r.created);
    std::string want = original;
    want.replace(want.find("host = 10.0.0.1"), 15, "host = 127.0.0.1");
    want.replace(want.find("port = 1\n"), 8, "port = " + std::to_string(redis_->port()));
    want.replace(want.find("address = http://old:9000"), 25, "address = " + s3_->endpoint());
    EXPECT_EQ(util::read_file(o.config_path), want);
    EXPECT_EQ(r.changed, (std::vector<std::string>{"redis.host", "redis.port", "s3.address"}));
    struct stat st {};
    ASSERT_EQ(::stat(o.config_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u) << "existing mode kept";
    EXPECT_TRUE(bucket_exists("custom-artifacts"));

    // A second run with the same values changes nothing.
    std::ostringstream out2;
    auto r2 = run_init(o, in, out2);
    EXPECT_TRUE(r2.changed.empty());
    EXPECT_NE(out2.str().find("unchanged"), std::string::npos);
    EXPECT_EQ(util::read_file(o.config_path), want);
}

TEST_F(InitTest, PromptsForMissingValuesThroughStdin) {
    auto o = base();
    o.unattended = false;
    o.redis_host.reset();
    o.redis_port.reset();
    o.s3_address.reset();
    o.s3_access_key.reset();
    o.s3_secret_key.reset();
    // host: keep default (empty line), then port, address, keys.
    std::istringstream in("\n" + std::to_string(redis_->port()) + "\n" + s3_->endpoint() + "\n" +
                          s3_->access_key() + "\n" + s3_->secret_key() + "\n");
    std::ostringstream out;
    run_init(o, in, out);
    EXPECT_NE(out.str().find("Redis host [127.0.0.1]: "), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("S3 secret key [****]: "), std::string::npos) << out.str();
    EXPECT_EQ(out.str().find("drakvuf-secret"), std::string::npos) << "secret echoed";
    auto cfg = karton::Config::load_ini_file(o.config_path);
    EXPECT_EQ(cfg.get("redis", "host"), "127.0.0.1");
    EXPECT_EQ(cfg.get("s3", "secret_key"), s3_->secret_key());
}

TEST_F(InitTest, StdinClosedWhilePromptingWritesNothing) {
    auto o = base();
    o.unattended = false;
    o.s3_secret_key.reset();
    std::istringstream in("");
    std::ostringstream out;
    try {
        run_init(o, in, out);
        FAIL() << "expected InputError";
    } catch (const util::InputError& e) {
        EXPECT_NE(std::string(e.what()).find("S3 secret key"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("--unattended"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(o.config_path));
}

TEST_F(InitTest, UnreachableRedisFailsClearlyAndWritesNothing) {
    auto o = base();
    int dead = test_support::free_loopback_port();
    o.redis_port = dead;
    std::istringstream in;
    std::ostringstream out;
    try {
        run_init(o, in, out);
        FAIL() << "expected SetupError";
    } catch (const SetupError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("cannot connect to Redis at 127.0.0.1:" + std::to_string(dead)),
                  std::string::npos)
            << msg;
    }
    EXPECT_FALSE(fs::exists(o.config_path));
    EXPECT_FALSE(fs::exists(o.config_path.parent_path())) << "no directory half-created";
}

TEST_F(InitTest, UnreachableS3LeavesExistingConfigUntouched) {
    auto o = base();
    fs::create_directories(o.config_path.parent_path());
    std::string original = util::read_file(template_path());
    util::write_file_atomic(o.config_path, original);
    int dead = test_support::free_loopback_port();
    o.s3_address = "127.0.0.1:" + std::to_string(dead);
    std::istringstream in;
    std::ostringstream out;
    try {
        run_init(o, in, out);
        FAIL() << "expected SetupError";
    } catch (const SetupError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("S3 at http://127.0.0.1:" + std::to_string(dead)), std::string::npos)
            << msg;
    }
    EXPECT_EQ(util::read_file(o.config_path), original);
}

TEST_F(InitTest, WrongS3CredentialsAreReported) {
    auto o = base();
    o.s3_secret_key = "wrong-secret";
    std::istringstream in;
    std::ostringstream out;
    EXPECT_THROW(run_init(o, in, out), SetupError);
    EXPECT_FALSE(fs::exists(o.config_path));
}

TEST_F(InitTest, BadValuesAreRejectedBeforeAnyCheck) {
    auto o = base();
    o.s3_address = "ftp://host:21";
    std::istringstream in;
    std::ostringstream out;
    EXPECT_THROW(run_init(o, in, out), util::InputError);
    o = base();
    o.redis_host = "a\nb";
    EXPECT_THROW(run_init(o, in, out), util::InputError);
    o = base();
    o.template_path = dir_.path() / "missing.ini";
    EXPECT_THROW(run_init(o, in, out), SetupError);
    EXPECT_FALSE(fs::exists(o.config_path));
}

TEST_F(InitTest, MalformedExistingConfigIsAConfigError) {
    auto o = base();
    fs::create_directories(o.config_path.parent_path());
    util::write_file_atomic(o.config_path, "not an ini line\n");
    std::istringstream in;
    std::ostringstream out;
    EXPECT_THROW(run_init(o, in, out), karton::ConfigError);
    EXPECT_EQ(util::read_file(o.config_path), "not an ini line\n");
}

TEST(S3Address, Normalization) {
    using drak_setup::normalize_s3_address;
    EXPECT_EQ(normalize_s3_address("host:9000", std::nullopt), "http://host:9000");
    EXPECT_EQ(normalize_s3_address("host:9000", true), "https://host:9000");
    EXPECT_EQ(normalize_s3_address("http://host:9000/", true), "https://host:9000");
    EXPECT_EQ(normalize_s3_address("https://host", false), "http://host");
    EXPECT_THROW(normalize_s3_address("", std::nullopt), util::InputError);
    EXPECT_THROW(normalize_s3_address("http://", std::nullopt), util::InputError);
    EXPECT_THROW(normalize_s3_address("http://host:1/path", std::nullopt), util::InputError);
}

TEST(Units, OnlyCombinations) {
    auto names = [](std::set<Component> c) {
        std::vector<std::string> out;
        for (const auto& u : drak_setup::units_for(c)) out.push_back(u.enable_as);
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(names({}), (V{"drak-system.service", "drak-web.service", "drakrun@1.service"}));
    EXPECT_EQ(names({Component::Web, Component::Drakrun}),
              (V{"drak-web.service", "drakrun@1.service"}));
    EXPECT_EQ(names({Component::System}), (V{"drak-system.service"}));
    EXPECT_EQ(names({Component::Drakrun}), (V{"drakrun@1.service"}));
    EXPECT_EQ(drak_setup::units_for({Component::Drakrun})[0].file, "drakrun@.service");
    EXPECT_EQ(drak_setup::parse_component("web"), Component::Web);
    EXPECT_THROW(drak_setup::parse_component("xen"), util::InputError);
}

// FakeSystemd: a run dir (so systemd counts as running), a unit dir and a systemctl script
// that records its arguments, one call per line.
struct FakeSystemd {
    util::TempDir dir{"drak-fake-systemd"};
    drak_setup::SystemdOptions options() const {
        drak_setup::SystemdOptions o;
        o.run_dir = dir.path() / "run";
        o.unit_dir = dir.path() / "etc";
        o.system_unit_dirs = {dir.path() / "lib"};
        o.unit_source_dir = test_support::source_dir() / "data" / "systemd";
        o.systemctl = (dir.path() / "systemctl").string();
        return o;
    }
    FakeSystemd(int exit_code = 0) {
        fs::create_directories(dir.path() / "run");
        fs::create_directories(dir.path() / "etc");
        fs::create_directories(dir.path() / "lib");
        util::write_file_atomic(dir.path() / "systemctl", "#!/bin/sh\necho \"$*\" >> \"" +
                                                              log().string() + "\"\nexit " +
                                                              std::to_string(exit_code) + "\n");
        ::chmod((dir.path() / "systemctl").c_str(), 0755);
    }
    fs::path log() const { return dir.path() / "calls.log"; }
    std::string calls() const { return fs::exists(log()) ? util::read_file(log()) : ""; }
};

TEST_F(InitTest, OnlyWebAndDrakrunInstallsAndEnablesTheirUnits) {
    FakeSystemd sd;
    auto o = base();
    o.systemd = sd.options();
    // drak-web.service is already installed by the package: not copied again.
    util::write_file_atomic(sd.dir.path() / "lib" / "drak-web.service", "[Unit]\n");
    o.components = {Component::Web, Component::Drakrun};
    std::istringstream in;
    std::ostringstream out;
    auto r = run_init(o, in, out);
    EXPECT_TRUE(r.units_installed);
    EXPECT_EQ(sd.calls(), "daemon-reload\nenable --now drak-web.service drakrun@1.service\n");
    EXPECT_TRUE(fs::is_regular_file(sd.dir.path() / "etc" / "drakrun@.service"));
    EXPECT_FALSE(fs::exists(sd.dir.path() / "etc" / "drak-web.service"));
    EXPECT_FALSE(fs::exists(sd.dir.path() / "etc" / "drak-system.service"));
}

TEST_F(InitTest, FailingSystemctlIsAnError) {
    FakeSystemd sd(1);
    auto o = base();
    o.systemd = sd.options();
    std::istringstream in;
    std::ostringstream out;
    try {
        run_init(o, in, out);
        FAIL() << "expected SetupError";
    } catch (const SetupError& e) {
        EXPECT_NE(std::string(e.what()).find("daemon-reload failed (exit status 1)"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Scale, EnablesUpToNAndDisablesTheRest) {
    FakeSystemd sd;
    auto o = sd.options();
    auto wants = sd.dir.path() / "etc" / "multi-user.target.wants";
    fs::create_directories(wants);
    for (int i : {1, 2, 3, 5}) {
        fs::create_symlink("/dev/null", wants / ("drakrun@" + std::to_string(i) + ".service"));
    }
    EXPECT_EQ(drak_setup::enabled_worker_instances(o), (std::set<int>{1, 2, 3, 5}));
    std::ostringstream out;
    drak_setup::scale_workers(2, o, out);
    EXPECT_EQ(sd.calls(),
              "enable --now drakrun@1.service drakrun@2.service\n"
              "disable --now drakrun@3.service drakrun@5.service\n");
}

TEST(Scale, ZeroDisablesAllAndBoundsAreChecked) {
    FakeSystemd sd;
    auto o = sd.options();
    auto wants = sd.dir.path() / "etc" / "multi-user.target.wants";
    fs::create_directories(wants);
    fs::create_symlink("/dev/null", wants / "drakrun@1.service");
    std::ostringstream out;
    drak_setup::scale_workers(0, o, out);
    EXPECT_EQ(sd.calls(), "disable --now drakrun@1.service\n");
    EXPECT_THROW(drak_setup::scale_workers(-1, o, out), util::InputError);
    EXPECT_THROW(drak_setup::scale_workers(drak_setup::kMaxWorkers + 1, o, out), util::InputError);
}

TEST(Scale, WithoutSystemdExplains) {
    drak_setup::SystemdOptions o;
    o.run_dir = "/nonexistent/run/systemd/system";
    std::ostringstream out;
    try {
        drak_setup::scale_workers(2, o, out);
        FAIL() << "expected SetupError";
    } catch (const SetupError& e) {
        EXPECT_NE(std::string(e.what()).find("drakrun worker --instance N"), std::string::npos);
    }
}

}  // namespace
