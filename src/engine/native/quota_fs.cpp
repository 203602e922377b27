// engine/native/quota_fs.cpp — size-limited tmpfs for the sample's writable layers.
#include "engine/native/quota_fs.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/logging.hpp"

namespace engine::native {

namespace fs = std::filesystem;

namespace {

// unescape_mountinfo undoes the kernel's octal escapes (\040 space, \011 tab, \012, \134).
std::string unescape_mountinfo(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto octal = [&](std::size_t k) { return s[k] >= '0' && s[k] <= '7'; };
        if (s[i] == '\\' && i + 3 < s.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8)));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

QuotaFs::QuotaFs(fs::path dir, std::uint64_t size_bytes, std::uint64_t max_inodes)
    : dir_(std::move(dir)), size_(size_bytes) {
    fs::create_directories(dir_);
    std::string opts =
        "mode=0755,size=" + std::to_string(size_bytes) + ",nr_inodes=" + std::to_string(max_inodes);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
        util::throw_errno("mount tmpfs (" + opts + ") at " + dir_.string());
    }
}

QuotaFs::~QuotaFs() {
    if (::umount2(dir_.c_str(), MNT_DETACH) != 0) {
        util::logger("engine")->warn("umount {} failed: {}", dir_.string(), errno);
    }
}

std::uint64_t QuotaFs::free_bytes() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) {
        return 0;
    }
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::uint64_t QuotaFs::used_bytes() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) {
        return 0;
    }
    return static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
}

bool QuotaFs::exhausted() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) {
        return false;
    }
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize < (64u << 10) || st.f_favail == 0;
}

int unmount_below(const fs::path& dir) {
    const std::string base = fs::path(dir).lexically_normal().string();
    std::vector<std::string> points;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string id, parent, devno, root, point;
        if (!(f >> id >> parent >> devno >> root >> point)) {
            continue;
        }
        point = unescape_mountinfo(point);
        if (point == base || point.rfind(base + "/", 0) == 0) {
            points.push_back(point);
        }
    }
    // Deepest first (longer paths below shorter ones).
    std::sort(points.begin(), points.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    int n = 0;
    for (const auto& p : points) {
        if (::umount2(p.c_str(), MNT_DETACH) == 0) {
            ++n;
        }
    }
    return n;
}

}  // namespace engine::native
