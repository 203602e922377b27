// engine/native/wine_prefix.cpp — golden Wine prefix creation and hardening.
#include "engine/native/wine_prefix.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>

#include "engine/native/sandbox.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/logging.hpp"

namespace engine::native {

namespace fs = std::filesystem;

namespace {

const char* const kMarker = ".drak-golden-version";

// The shell script run (as the sandbox user, no network) to create the prefix.
const char* const kBuildScript = R"(set -e
wine64 wineboot -i
wine64 reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f
wine64 reg add 'HKCU\Software\Wine\DllOverrides' /v winemenubuilder.exe /d '' /f
wine64 reg add 'HKCU\Software\Wine\DllOverrides' /v mscoree /d '' /f
wine64 reg add 'HKCU\Software\Wine\DllOverrides' /v mshtml /d '' /f
wineserver -w
)";

}  // namespace

std::vector<std::string> wine_environment(const std::vector<std::string>& extra) {
    std::vector<std::string> env = {
        "PATH=/usr/lib/wine:/usr/bin:/bin",
        "HOME=/home/user",
        "USER=user",
        "LOGNAME=user",
        "LANG=en_US.UTF-8",
        "TZ=UTC",
        std::string("WINEPREFIX=") + kGuestPrefix,
        "WINEARCH=win64",
        "WINEDLLOVERRIDES=mscoree,mshtml=;winemenubuilder.exe=d",
        "DISPLAY=",
        "TMPDIR=/tmp",
    };
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
}

bool wine64_available() { return ::access(kWine64, X_OK) == 0 && ::access(kWineserver, X_OK) == 0; }

bool wine32_available() {
    return ::access("/usr/lib/wine/wine", X_OK) == 0 ||
           fs::exists("/usr/lib/i386-linux-gnu/wine/i386-unix/ntdll.so");
}

std::optional<std::int64_t> golden_prefix_version(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir / kMarker, ec)) {
        return std::nullopt;
    }
    try {
        return std::stoll(util::read_file(dir / kMarker));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::int64_t ensure_golden_prefix(const fs::path& dir, const fs::path& scratch_root,
                                  util::Clock& clock) {
    if (auto v = golden_prefix_version(dir)) {
        return *v;
    }
    if (!wine64_available()) {
        throw util::Error("wine64 is not installed (apt-get install wine64)");
    }
    fs::create_directories(dir.parent_path());
    // One builder at a time (several workers may start together).
    util::UniqueFd lock(
        ::open((dir.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock || ::flock(lock.get(), LOCK_EX) != 0) {
        util::throw_errno("lock " + dir.string() + ".lock");
    }
    if (auto v = golden_prefix_version(dir)) {
        return *v;
    }
    util::logger("engine")->info("building golden Wine prefix in {}", dir.string());
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    if (::chown(dir.c_str(), kSandboxUid, kSandboxGid) != 0) {
        util::throw_errno("chown " + dir.string());
    }
    fs::create_directories(scratch_root);
    std::string name = new_resource_name();
    fs::path scratch = scratch_root / name;
    fs::create_directories(scratch);
    auto cleanup = [&] { fs::remove_all(scratch, ec); };
    try {
        SandboxSpec spec;
        spec.name = name;
        spec.scratch = scratch;
        spec.binds.push_back({dir, kGuestPrefix, true});
        spec.env = wine_environment({"WINEDEBUG=-all"});
        spec.cwd = "/home/user";
        spec.limits.memory_bytes = 2048ull << 20;
        spec.limits.cpus = 2;
        fs::path log = scratch / "build.log";
        util::UniqueFd logfd(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!logfd) {
            util::throw_errno("open " + log.string());
        }
        auto p = spawn_sandboxed(spec, {"/bin/sh", "-c", kBuildScript},
                                 {{logfd.get(), 1}, {logfd.get(), 2}});
        auto e = p->wait(std::chrono::minutes(5));
        if (e.timed_out || e.exit_code != 0) {
            std::string out;
            try {
                out = util::read_file(log);
            } catch (const util::Error&) {
            }
            if (out.size() > 2000) {
                out = out.substr(out.size() - 2000);
            }
            throw util::Error("building the Wine prefix failed (exit " +
                              std::to_string(e.exit_code) + (e.timed_out ? ", timed out" : "") +
                              "): " + out);
        }
        // Debian's Wine records its private /tmp server dir here; each analysis makes its own.
        fs::remove(dir / "wineserver", ec);
        // Hardening: no drive mapping the host's root, no links into the Unix home.
        fs::remove(dir / "dosdevices" / "z:", ec);
        fs::path profile = dir / "drive_c" / "users" / kSandboxUser;
        for (const char* f :
             {"Desktop", "Documents", "Downloads", "Music", "Pictures", "Videos", "Templates",
              "My Documents", "AppData/Roaming/Microsoft/Windows/Templates"}) {
            fs::path p = profile / f;
            if (fs::is_symlink(p, ec)) {
                fs::remove(p, ec);
            }
            fs::create_directories(p, ec);
            ::chown(p.c_str(), kSandboxUid, kSandboxGid);
        }
        for (const auto& e : fs::directory_iterator(dir / "dosdevices", ec)) {
            // Any remaining link that escapes the prefix (other than c:) goes too.
            std::string n = e.path().filename().string();
            if (n != "c:" && fs::is_symlink(e.path(), ec)) {
                fs::remove(e.path(), ec);
            }
        }
    } catch (...) {
        cleanup();
        fs::remove_all(dir, ec);
        throw;
    }
    cleanup();
    auto now = static_cast<std::int64_t>(clock.now());
    util::write_file_atomic(dir / kMarker, std::to_string(now));
    return now;
}

}  // namespace engine::native
