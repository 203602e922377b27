#include "drakrun/file_names.hpp"

#include <gtest/gtest.h>

using drakrun::choose_guest_file_name;
using drakrun::is_safe_file_name;

TEST(FileNames, AcceptsOrdinaryNames) {
    EXPECT_TRUE(is_safe_file_name("invoice.exe"));
    EXPECT_TRUE(is_safe_file_name("Faktura 2024-01.docm"));
    EXPECT_TRUE(is_safe_file_name("zażółć.exe"));
}

TEST(FileNames, RejectsHostileNames) {
    for (const char* bad : {"",
                            ".",
                            "..",
                            "../x.exe",
                            "a/b.exe",
                            "a\\b.exe",
                            "C:x.exe",
                            "x.exe;rm -rf",
                            "$(id).exe",
                            "`x`.exe",
                            "a|b",
                            "a&b",
                            "a>b",
                            "-rf.exe",
                            ".hidden",
                            "trail.",
                            "trail ",
                            "CON",
                            "nul.txt",
                            "com1.exe",
                            "tab\there.exe",
                            "new\nline.exe",
                            "x\x7f.exe"}) {
        EXPECT_FALSE(is_safe_file_name(bad)) << bad;
    }
    EXPECT_FALSE(is_safe_file_name(std::string(256, 'a')));
    EXPECT_FALSE(is_safe_file_name("bad\xff\xfe.exe"));   // not UTF-8
    EXPECT_FALSE(is_safe_file_name("over\xc0\xaf.exe"));  // overlong '/'
    EXPECT_FALSE(is_safe_file_name("c1\xc2\x85.exe"));    // C1 control NEL
}

TEST(FileNames, GuestNameKeepsSafeNameAndAddsExtension) {
    auto g = choose_guest_file_name("invoice", "exe", "PE32 executable", "win32");
    EXPECT_EQ(g.name, "invoice.exe");
    EXPECT_EQ(g.extension, "exe");
    EXPECT_FALSE(g.replaced);
    g = choose_guest_file_name("INVOICE.EXE", "", "PE32 executable", "win32");
    EXPECT_EQ(g.name, "INVOICE.EXE");
    EXPECT_EQ(g.extension, "exe");
}

TEST(FileNames, UnsafeNameIsReplacedByRandomSafeName) {
    auto g = choose_guest_file_name("../../etc/passwd", "", "PE32 executable (DLL)", "win32");
    EXPECT_TRUE(g.replaced);
    EXPECT_EQ(g.extension, "dll");
    EXPECT_EQ(g.name.size(), 14u);
    EXPECT_TRUE(is_safe_file_name(g.name));
    EXPECT_EQ(g.name.substr(10), ".dll");
}

TEST(FileNames, ExtensionHeaderMustBeAlnum) {
    auto g = choose_guest_file_name("x", "e/xe", "PE32", "win32");
    EXPECT_EQ(g.extension, "exe");  // invalid header ignored, magic decides
    g = choose_guest_file_name("x", ".DOCM", "", "win32");
    EXPECT_EQ(g.extension, "docm");
    EXPECT_EQ(g.name, "x.docm");
}

TEST(FileNames, ElfGetsNoExtension) {
    auto g = choose_guest_file_name("sample", "", "ELF 64-bit LSB executable", "linux");
    EXPECT_EQ(g.name, "sample");
    EXPECT_EQ(g.extension, "");
}
