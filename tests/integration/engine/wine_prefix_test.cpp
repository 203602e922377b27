// Integration test for engine/native/wine_prefix: the golden prefix is built (once, cached
// under the build dir) in the sandbox and hardened as the design notes require.
#include "engine/native/wine_prefix.hpp"

#include <gtest/gtest.h>

#include "engine/native/sandbox.hpp"
#include "netns_guard.hpp"

#include <sys/stat.h>
#include "support/paths.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

namespace fs = std::filesystem;

TEST(WinePrefix, GoldenPrefixIsBuiltAndHardened) {
    ASSERT_TRUE(wine64_available()) << "wine64 missing: scripts/packages.d/engine.list";
    fs::path dir = test_support::binary_dir() / "wine-prefix-cache";
    auto v = ensure_golden_prefix(dir, test_support::binary_dir() / "engine-scratch");
    EXPECT_GT(v, 1700000000);
    EXPECT_EQ(golden_prefix_version(dir), v);
    EXPECT_EQ(ensure_golden_prefix(dir, test_support::binary_dir() / "engine-scratch"), v);
    EXPECT_TRUE(fs::exists(dir / "system.reg"));
    EXPECT_TRUE(fs::exists(dir / "drive_c" / "windows" / "system32" / "kernel32.dll"));
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "dosdevices" / "z:")));
    fs::path desktop = dir / "drive_c" / "users" / kSandboxUser / "Desktop";
    EXPECT_TRUE(fs::is_directory(fs::symlink_status(desktop)));
    std::string user_reg = util::read_file(dir / "user.reg");
    EXPECT_NE(user_reg.find("\"Graphics\"=\"null\""), std::string::npos);
    EXPECT_NE(user_reg.find("\"winemenubuilder.exe\"=\"\""), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, kSandboxUid);
}

}  // namespace
}  // namespace engine::native
