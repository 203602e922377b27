// Tests for system/settings.hpp ([system] options, §1.6) and the pure helpers of system/gc.hpp
// (CLIENT LIST parsing §2.1, referenced uids of unparseable documents §9.2).
#include "system/settings.hpp"

#include <gtest/gtest.h>

#include "system/gc.hpp"

namespace {

karton::Config ini(const std::string& text) { return karton::Config::parse_ini(text, "test.ini"); }

TEST(SystemConfig, DefaultsAreKartonSystems) {
    const auto c = drak_system::system_config(ini("[redis]\nhost = x\n"));
    EXPECT_EQ(c.gc_interval, 180);
    EXPECT_EQ(c.timeouts.task_dispatched_timeout, 86400);
    EXPECT_EQ(c.timeouts.task_started_timeout, 86400);
    EXPECT_EQ(c.timeouts.task_crashed_timeout, 259200);
    EXPECT_FALSE(c.timeouts.crash_started_tasks_on_timeout);
    EXPECT_TRUE(c.enable_gc);
    EXPECT_TRUE(c.enable_router);
    EXPECT_FALSE(c.enable_null_version_deletion);
    EXPECT_TRUE(c.enable_task_tracking);
    EXPECT_EQ(c.task_tracking_ttl, 2592000);
    EXPECT_EQ(c.router_batch, 101u);
}

TEST(SystemConfig, ReadsEveryOption) {
    const auto c = drak_system::system_config(
        ini("[system]\ngc_interval = 5\ntask_dispatched_timeout = 1\ntask_started_timeout = 2\n"
            "task_crashed_timeout = 3\ncrash_started_tasks_on_timeout = yes\nenable_gc = off\n"
            "enable_router = 0\nenable_null_version_deletion = true\n"
            "enable_task_tracking = false\ntask_tracking_ttl = 60\ninstance = r-2\n"
            "router_batch = 500\n"));
    EXPECT_EQ(c.gc_interval, 5);
    EXPECT_EQ(c.timeouts.task_dispatched_timeout, 1);
    EXPECT_EQ(c.timeouts.task_started_timeout, 2);
    EXPECT_EQ(c.timeouts.task_crashed_timeout, 3);
    EXPECT_TRUE(c.timeouts.crash_started_tasks_on_timeout);
    EXPECT_FALSE(c.enable_gc);
    EXPECT_FALSE(c.enable_router);
    EXPECT_TRUE(c.enable_null_version_deletion);
    EXPECT_FALSE(c.enable_task_tracking);
    EXPECT_EQ(c.task_tracking_ttl, 60);
    EXPECT_EQ(c.instance, "r-2");
    EXPECT_EQ(c.router_batch, 500u);
}

TEST(SystemConfig, RejectsBadValues) {
    EXPECT_THROW(drak_system::system_config(ini("[system]\ngc_interval = -1\n")),
                 karton::ConfigError);
    EXPECT_THROW(drak_system::system_config(ini("[system]\ngc_interval = soon\n")),
                 karton::ConfigError);
    EXPECT_THROW(drak_system::system_config(ini("[system]\nenable_gc = maybe\n")),
                 karton::ConfigError);
    EXPECT_THROW(drak_system::system_config(ini("[system]\nrouter_batch = 0\n")),
                 karton::ConfigError);
    EXPECT_THROW(drak_system::system_config(ini("[system]\nrouter_batch = 5001\n")),
                 karton::ConfigError);
    EXPECT_THROW(drak_system::system_config(ini("[system]\ninstance = a b\n")),
                 karton::ConfigError);
}

TEST(ServiceSettings, ClientNameAndBucket) {
    const auto s = drak_system::service_settings(
        ini("[redis]\nhost = 10.0.0.1\nport = 6380\n[s3]\naddress = http://s3:9000\n"
            "access_key = a\nsecret_key = b\nbucket = karton\n[logging]\nlevel = warning\n"),
        {});
    EXPECT_EQ(s.redis.host, "10.0.0.1");
    EXPECT_EQ(s.redis.port, 6380);
    EXPECT_EQ(s.redis.client_name, "karton.system?karton_version=5.9.1&service_version=5.9.1");
    EXPECT_EQ(s.s3.endpoint, "http://s3:9000");
    EXPECT_EQ(s.bucket, "karton");
    EXPECT_EQ(s.log_level, karton::LogLevel::Warning);
}

TEST(ServiceSettings, BucketIsRequired) {
    EXPECT_THROW(drak_system::service_settings(
                     ini("[redis]\nhost = h\n[s3]\naddress = http://s3:9000\naccess_key = a\n"
                         "secret_key = b\n"),
                     {}),
                 karton::ConfigError);
}

TEST(OnlineIdentities, CutsNamesAtQuestionMark) {
    const std::string list =
        "id=3 addr=127.0.0.1:1 laddr=127.0.0.1:2 fd=8 name=karton.vec-a age=1 idle=0\n"
        "id=4 addr=127.0.0.1:3 fd=9 name= age=1\n"
        "id=5 addr=127.0.0.1:4 fd=10 name=karton.system?karton_version=5.9.1 age=2\n";
    const auto ids = drak_system::online_identities(list);
    EXPECT_EQ(ids.size(), 2u);
    EXPECT_EQ(ids.count("karton.vec-a"), 1u);
    EXPECT_EQ(ids.count("karton.system"), 1u);
    EXPECT_EQ(ids.count(""), 0u);
}

TEST(ReferencedInText, FindsListedStringLiteralsOnly) {
    const std::unordered_set<std::string> listed{"uid-1", "uid-2", "uid-3"};
    std::unordered_set<std::string> out;
    drak_system::referenced_in_text(R"({"x": "uid-1", "y": "\"uid-2", bad uid-3 "uid-3)", listed,
                                    out);
    EXPECT_EQ(out, (std::unordered_set<std::string>{"uid-1"}));
}

}  // namespace
