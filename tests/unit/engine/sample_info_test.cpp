#include "engine/sample_info.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace engine;

namespace {
// Builds a minimal PE image with one section holding an export directory.
std::string make_pe(bool pe64, bool dll, const std::vector<std::string>& names) {
    std::string img(0x1000, '\0');
    auto put16 = [&](std::size_t off, std::uint16_t v) { std::memcpy(&img[off], &v, 2); };
    auto put32 = [&](std::size_t off, std::uint32_t v) { std::memcpy(&img[off], &v, 4); };
    img[0] = 'M';
    img[1] = 'Z';
    put32(0x3C, 0x80);
    put32(0x80, 0x00004550);
    put16(0x80 + 6, 1);  // one section
    std::uint16_t opt_size = pe64 ? 240 : 224;
    put16(0x80 + 20, opt_size);
    put16(0x80 + 22, dll ? 0x2002 : 0x0002);
    std::size_t opt = 0x80 + 24;
    put16(opt, pe64 ? 0x20b : 0x10b);
    std::size_t dirs = opt + (pe64 ? 112 : 96);
    put32(dirs - 4, 16);
    std::size_t sec = opt + opt_size;
    // section: VA 0x1000, raw at 0x400, size 0x400
    put32(sec + 8, 0x400);
    put32(sec + 12, 0x1000);
    put32(sec + 16, 0x400);
    put32(sec + 20, 0x400);
    if (!names.empty()) {
        put32(dirs, 0x1000);  // export dir RVA
        put32(dirs + 4, 0x100);
        std::size_t ed = 0x400;
        put32(ed + 16, 1);  // ordinal base
        put32(ed + 20, static_cast<std::uint32_t>(names.size()));
        put32(ed + 24, static_cast<std::uint32_t>(names.size()));
        put32(ed + 32, 0x1000 + 0x40);  // names RVA
        put32(ed + 36, 0x1000 + 0x80);  // ordinals RVA
        std::size_t str = 0x400 + 0x100;
        for (std::size_t i = 0; i < names.size(); ++i) {
            put32(0x400 + 0x40 + i * 4, static_cast<std::uint32_t>(0x1000 + (str - 0x400)));
            put16(0x400 + 0x80 + i * 2, static_cast<std::uint16_t>(i));
            std::memcpy(&img[str], names[i].c_str(), names[i].size() + 1);
            str += names[i].size() + 1;
        }
    }
    return img;
}
}  // namespace

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
