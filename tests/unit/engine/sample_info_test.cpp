#include "engine/sample_info.hpp"

#include <gtest/gtest.h>

#include "pe_image.hpp"

#include <cstring>
#include <random>

using namespace engine;

using engine_test::make_pe;


TEST(SampleInfo, DetectsPeFlavoursAndElf) {
    EXPECT_EQ(platform_of(inspect_sample(make_pe(false, false, {}))), "win32");
    EXPECT_EQ(platform_of(inspect_sample(make_pe(true, false, {}))), "win64");
    EXPECT_EQ(platform_of(inspect_sample(std::string("\x7f"
                                                     "ELF\x02\x01\x01",
                                                     7))),
              "linux");
    EXPECT_EQ(platform_of(inspect_sample("hello")), "");
}

TEST(SampleInfo, DllEntryPointRules) {
    auto info = inspect_sample(make_pe(false, true, {"Foo@8", "DllRegisterServer"}));
    EXPECT_TRUE(info.is_dll);
    ASSERT_EQ(info.exports.size(), 2u);
    EXPECT_EQ(dll_entry_point(info), "DllRegisterServer");
    EXPECT_EQ(dll_entry_point(inspect_sample(make_pe(false, true, {"Run@4", "_DllMain@12"}))),
              "_DllMain@12");
    EXPECT_EQ(dll_entry_point(inspect_sample(make_pe(true, true, {"Run@4", "Other"}))), "Run");
    EXPECT_EQ(dll_entry_point(inspect_sample(make_pe(true, true, {}))), "DllMain");
}

TEST(SampleInfo, TruncatedAndRandomInputNeverCrash) {
    std::string pe = make_pe(true, true, {"A", "B"});
    for (std::size_t n = 0; n < pe.size(); n += 7) {
        (void)inspect_sample(std::string_view(pe).substr(0, n));
    }
    std::mt19937 rng(42);
    for (int i = 0; i < 2000; ++i) {
        std::string mutated = pe;
        for (int k = 0; k < 8; ++k) {
            mutated[rng() % mutated.size()] = static_cast<char>(rng());
        }
        auto info = inspect_sample(mutated);
        (void)dll_entry_point(info);
    }
    SUCCEED();
}
