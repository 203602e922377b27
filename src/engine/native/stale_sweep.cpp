// engine/native/stale_sweep.cpp — removal of resources left by dead engines.
#include "engine/native/stale_sweep.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdlib>

#include "engine/native/cgroup.hpp"
#include "engine/native/netsim.hpp"
#include "engine/native/quota_fs.hpp"
#include "engine/native/sandbox.hpp"
#include "util/logging.hpp"

namespace engine::native {

namespace fs = std::filesystem;

long owner_pid_of(const std::string& name) {
    const std::string prefix = kResourcePrefix;
    if (name.rfind(prefix, 0) != 0) {
        return 0;
    }
    const char* start = name.c_str() + prefix.size();
    char* end = nullptr;
    long pid = std::strtol(start, &end, 10);
    if (end == start || *end != '-' || pid <= 0) {
        return 0;
    }
    return pid;
}

namespace {

bool stale(const std::string& name, bool all) {
    long pid = owner_pid_of(name);
    if (pid == 0) {
        return false;
    }
    if (all) {
        return true;
    }
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

SweepReport sweep_stale_resources(const std::vector<fs::path>& scratch_roots, bool all) {
    SweepReport report;
    std::error_code ec;
    for (const auto& parent : cgroup_parent_dirs()) {
        for (const auto& e : fs::directory_iterator(parent, ec)) {
            std::string n = e.path().filename().string();
            if (!e.is_directory(ec) || !stale(n, all)) {
                continue;
            }
            (remove_cgroup_dir(e.path()) ? report.removed : report.failed)
                .push_back("cgroup " + e.path().string());
        }
    }
    for (const auto& n : list_netns()) {
        if (!stale(n, all)) {
            continue;
        }
        (delete_netns(n) ? report.removed : report.failed).push_back("netns " + n);
    }
    for (const auto& root : scratch_roots) {
        for (const auto& e : fs::directory_iterator(root, ec)) {
            std::string n = e.path().filename().string();
            if (!stale(n, all)) {
                continue;
            }
            // A killed engine leaves its writable-quota tmpfs mounted below the dir.
            unmount_below(e.path());
            std::error_code rec;
            fs::remove_all(e.path(), rec);
            (rec ? report.failed : report.removed).push_back("dir " + e.path().string());
        }
    }
    for (const auto& f : report.failed) {
        util::logger("engine")->error("stale sweep could not remove {}", f);
    }
    return report;
}

}  // namespace engine::native
