// engine/native/guest_image.hpp — reads an executable inside a running Wine sandbox, seen from
// the engine through /proc/<sandbox pid 1>/root, to tell whether a newly created process is
// 32- or 64-bit (procmon's NtCreateUserProcess `Bitness`): the wineserver trace carries only
// the image's Windows path. Everything in the sandbox is written by the sample, so paths are
// resolved with openat2(RESOLVE_IN_ROOT): a symlink cannot lead outside the sandbox root.
#pragma once

#include <optional>
#include <string>

namespace engine::native {

// guest_unix_path maps a Windows image path to a path relative to the sandbox root, for a
// Wine prefix at `prefix` (absolute, inside the sandbox): "C:\x\y.exe" -> "<prefix>/drive_c/x/y.exe",
// "Z:\usr\x" -> "usr/x", with "\??\" and "\\?\" prefixes stripped. A 32-bit creator's
// "C:\windows\system32\..." goes to syswow64 (WoW64 file-system redirection) and its
// "C:\windows\sysnative\..." to system32. nullopt for other drives, UNC paths, or a path with
// a ".." component.
std::optional<std::string> guest_unix_path(const std::string& windows_path,
                                           const std::string& prefix, bool creator_is_32bit);

// guest_image_bitness opens `relative_path` below the root directory `root_dir` (e.g.
// "/proc/123/root"), matching each component case-insensitively when the exact name is
// missing (Windows paths are), and returns 32 or 64 from its PE header; 0 when the file is
// missing, unreadable or not a PE image.
int guest_image_bitness(const std::string& root_dir, const std::string& relative_path);

}  // namespace engine::native
