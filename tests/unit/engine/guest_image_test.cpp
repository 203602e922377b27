// Unit tests for engine/native/guest_image: Windows image path -> path in the sandbox root
// (drives, WoW64 redirection, hostile components) and PE bitness read below a root directory
// (case-insensitive components, symlinks confined to the root, non-files).
#include "engine/native/guest_image.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "pe_image.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

namespace fs = std::filesystem;

// A minimal PE image of the given bitness.
std::string pe_image(bool pe64) { return engine_test::make_pe(pe64, false, {}); }

TEST(GuestImage, MapsDrivesAndWow64Redirection) {
    const std::string prefix = "/home/user/.wine";
    EXPECT_EQ(guest_unix_path("C:\\users\\user\\Desktop\\a.exe", prefix, false),
              "home/user/.wine/drive_c/users/user/Desktop/a.exe");
    EXPECT_EQ(guest_unix_path("\\??\\c:\\x.exe", prefix, false), "home/user/.wine/drive_c/x.exe");
    EXPECT_EQ(guest_unix_path("\\\\?\\C:\\x.exe", prefix, false), "home/user/.wine/drive_c/x.exe");
    EXPECT_EQ(guest_unix_path("Z:\\usr\\bin\\x", prefix, false), "usr/bin/x");
    // A 32-bit creator asking for system32 gets syswow64; sysnative is the real system32.
    EXPECT_EQ(guest_unix_path("C:\\Windows\\System32\\cmd.exe", prefix, true),
              "home/user/.wine/drive_c/Windows/syswow64/cmd.exe");
    EXPECT_EQ(guest_unix_path("C:\\Windows\\System32\\cmd.exe", prefix, false),
              "home/user/.wine/drive_c/Windows/System32/cmd.exe");
    EXPECT_EQ(guest_unix_path("C:\\windows\\sysnative\\cmd.exe", prefix, true),
              "home/user/.wine/drive_c/windows/system32/cmd.exe");
    // Nothing else: other drives, UNC, relative, traversal, embedded '/'.
    EXPECT_FALSE(guest_unix_path("D:\\x.exe", prefix, false));
    EXPECT_FALSE(guest_unix_path("\\\\server\\share\\x.exe", prefix, false));
    EXPECT_FALSE(guest_unix_path("x.exe", prefix, false));
    EXPECT_FALSE(guest_unix_path("C:\\a\\..\\..\\..\\etc\\x", prefix, false));
    EXPECT_FALSE(guest_unix_path("C:\\a/../../b", prefix, false));
    EXPECT_FALSE(guest_unix_path("", prefix, false));
}

TEST(GuestImage, ReadsBitnessBelowTheRootCaseInsensitively) {
    util::TempDir root("guestimg");
    const fs::path dir = root.path() / "home/user/.wine/drive_c/windows/syswow64";
    fs::create_directories(dir);
    util::write_file_atomic(dir / "cmd.exe", pe_image(false));
    util::write_file_atomic(root.path() / "home/user/x64.exe", pe_image(true));
    util::write_file_atomic(root.path() / "home/user/text.exe", "not a PE at all");
    const std::string r = root.path().string();
    EXPECT_EQ(guest_image_bitness(r, "home/user/.wine/drive_c/windows/syswow64/cmd.exe"), 32);
    EXPECT_EQ(guest_image_bitness(r, "home/user/.wine/drive_c/Windows/SysWOW64/CMD.EXE"), 32);
    EXPECT_EQ(guest_image_bitness(r, "home/user/x64.exe"), 64);
    EXPECT_EQ(guest_image_bitness(r, "home/user/text.exe"), 0);
    EXPECT_EQ(guest_image_bitness(r, "home/user/missing.exe"), 0);
    EXPECT_EQ(guest_image_bitness(r, "home/user"), 0) << "a directory is not an image";
    EXPECT_EQ(guest_image_bitness(r + "/no-such-root", "x.exe"), 0);
    ASSERT_EQ(::mkfifo((root.path() / "home/user/fifo.exe").c_str(), 0644), 0);
    EXPECT_EQ(guest_image_bitness(r, "home/user/fifo.exe"), 0) << "must not block on a FIFO";
}

// The sample controls every file in the sandbox: an absolute symlink resolves inside the root,
// never to the engine's own filesystem.
TEST(GuestImage, SymlinksStayInsideTheRoot) {
    util::TempDir outside("guestout");
    util::write_file_atomic(outside.path() / "host64.exe", pe_image(true));
    util::TempDir root("guestimg");
    fs::create_directories(root.path() / "home/user");
    fs::create_symlink(outside.path() / "host64.exe", root.path() / "home/user/evil.exe");
    fs::create_symlink("../../../../../../../../" + (outside.path() / "host64.exe").string(),
                       root.path() / "home/user/dotdot.exe");
    const std::string r = root.path().string();
    EXPECT_EQ(guest_image_bitness(r, "home/user/evil.exe"), 0);
    EXPECT_EQ(guest_image_bitness(r, "home/user/dotdot.exe"), 0);
    // The same file placed inside the root is found through an absolute in-root symlink.
    util::write_file_atomic(root.path() / "inside64.exe", pe_image(true));
    fs::create_symlink("/inside64.exe", root.path() / "home/user/in.exe");
    EXPECT_EQ(guest_image_bitness(r, "home/user/in.exe"), 64);
}

}  // namespace
}  // namespace engine::native
