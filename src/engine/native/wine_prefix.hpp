// engine/native/wine_prefix.hpp — the hardened "golden" Wine prefix the native engine copies
// (overlayfs) for every analysis (issue 3 "Isolation"; design/native-engine-notes.md "Wine"):
// built once inside the sandbox with no network, no Z: drive, real shell folders,
// Graphics=null, no Mono/Gecko, winemenubuilder disabled.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/clock.hpp"

namespace engine::native {

// Default location of the golden prefix (configurable).
inline constexpr const char* kDefaultGoldenPrefix = "/var/lib/drakrun/wine-prefix";

// Paths of the Wine binaries as Debian's wine64 installs them.
inline constexpr const char* kWine64 = "/usr/lib/wine/wine64";
inline constexpr const char* kWineserver = "/usr/lib/wine/wineserver64";

// Where the prefix appears inside the sandbox, and the Windows user's profile.
inline constexpr const char* kGuestPrefix = "/home/user/.wine";

// golden_prefix_version returns the Unix time the prefix at `dir` was completed, or nullopt
// if `dir` holds no complete prefix (missing marker file).
std::optional<std::int64_t> golden_prefix_version(const std::filesystem::path& dir);

// ensure_golden_prefix builds the prefix at `dir` unless a complete one exists; returns its
// version (`clock` time when it was completed). `scratch_root` holds the sandbox's scratch
// dir. Takes ~10-20 s on first use. Throws util::Error (wine64 missing, wineboot failed, ...).
std::int64_t ensure_golden_prefix(const std::filesystem::path& dir,
                                  const std::filesystem::path& scratch_root,
                                  util::Clock& clock = util::system_clock());

// wine_environment returns the curated environment every Wine process in the sandbox gets
// (no host variables). `extra` entries ("K=V") are appended.
std::vector<std::string> wine_environment(const std::vector<std::string>& extra = {});

// wine64_available says whether Debian's wine64 is installed; wine32_available whether the
// 32-bit half (wine32:i386) is, so 32-bit PEs can run.
bool wine64_available();
bool wine32_available();

}  // namespace engine::native
