// service_settings (karton/service_settings.hpp): the [karton] section (spec §1.6) — identity,
// debug, persistent and task_timeout — and its errors.
#include "karton/service_settings.hpp"

#include <gtest/gtest.h>

#include "karton/errors.hpp"

namespace {

const std::string kBase = R"([redis]
host = 127.0.0.1
[s3]
address = http://127.0.0.1:9000
access_key = k
secret_key = s
bucket = karton
)";

karton::ServiceSettings from(const std::string& extra) {
    return karton::service_settings(karton::Config::parse_ini(kBase + extra),
                                    karton::Environment{});
}

TEST(ServiceSettings, KartonSectionDefaults) {
    auto s = from("");
    EXPECT_FALSE(s.identity.has_value());
    EXPECT_FALSE(s.debug);
    EXPECT_FALSE(s.persistent.has_value());
    EXPECT_EQ(s.task_timeout.count(), 0);
    EXPECT_TRUE(s.enable_publish);
}

TEST(ServiceSettings, KartonSectionValues) {
    auto s = from("[karton]\nidentity = karton.mine\npersistent = no\ntask_timeout = 900\n");
    EXPECT_EQ(s.identity.value_or(""), "karton.mine");
    EXPECT_EQ(s.persistent, std::optional<bool>(false));
    EXPECT_EQ(s.task_timeout.count(), 900);
    EXPECT_TRUE(s.enable_publish);
}

TEST(ServiceSettings, DebugModeTurnsLogPublishingOff) {
    auto s = from("[karton]\ndebug = true\n");
    EXPECT_TRUE(s.debug);
    EXPECT_FALSE(s.enable_publish);
}

TEST(ServiceSettings, BadKartonValuesAreClearErrors) {
    for (const char* bad : {"[karton]\ntask_timeout = -1\n", "[karton]\ntask_timeout = 604801\n",
                            "[karton]\ntask_timeout = soon\n", "[karton]\ndebug = maybe\n",
                            "[karton]\nidentity =\n"}) {
        try {
            from(bad);
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const karton::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("[karton]"), std::string::npos)
                << bad << " -> " << e.what();
        }
    }
}

}  // namespace
