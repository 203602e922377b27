// worker_settings (drakrun/settings.hpp): [drakrun] options, their defaults and their errors.
#include "drakrun/settings.hpp"

#include <gtest/gtest.h>

#include "karton/errors.hpp"

namespace {

drakrun::WorkerSettings from(const std::string& drakrun_section) {
    return drakrun::worker_settings(karton::Config::parse_ini("[drakrun]\n" + drakrun_section));
}

TEST(WorkerSettings, Defaults) {
    auto s = from("");
    EXPECT_EQ(s.identity, "karton.drakrun-prod");
    EXPECT_EQ(s.engine, "native");
    EXPECT_EQ(s.artifacts_bucket, "drakrun");
    EXPECT_EQ(s.max_timeout, drakrun::WorkerSettings::kHardMaxTimeout);
    EXPECT_EQ(s.attempts, 3);
    EXPECT_EQ(s.dumps_max_size, 300u << 20);
    EXPECT_EQ(s.max_sample_size, 512u << 20);
}

TEST(WorkerSettings, Values) {
    auto s = from(
        "identity = karton.drakrun-lab\nengine = xen\nmax_timeout = 600\nattempts = 1\n"
        "dumps_max_size = 0\nmax_sample_size = 1048576\nplugins = procmon, filetracer\n");
    EXPECT_EQ(s.identity, "karton.drakrun-lab");
    EXPECT_EQ(s.engine, "xen");
    EXPECT_EQ(s.max_timeout, 600);
    EXPECT_EQ(s.attempts, 1);
    EXPECT_EQ(s.dumps_max_size, 0u);
    EXPECT_EQ(s.max_sample_size, 1048576u);
    EXPECT_EQ(s.plugins, (std::vector<std::string>{"procmon", "filetracer"}));
}

TEST(WorkerSettings, BadValuesNameTheOption) {
    const std::pair<const char*, const char*> cases[] = {
        {"engine = qemu\n", "engine"},
        {"max_timeout = 5000\n", "max_timeout"},
        {"attempts = 0\n", "attempts"},
        {"dumps_max_size = -1\n", "dumps_max_size"},
        {"max_sample_size = 0\n", "max_sample_size"},
        {"max_sample_size = 99999999999999\n", "max_sample_size"},
        {"filters = {\"type\": \"sample\"}\n", "filters"},
    };
    for (const auto& [text, option] : cases) {
        try {
            from(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const karton::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(option), std::string::npos)
                << text << " -> " << e.what();
        }
    }
}

}  // namespace
