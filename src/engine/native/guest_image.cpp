// engine/native/guest_image.cpp — see guest_image.hpp.
#include "engine/native/guest_image.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <vector>

#include "engine/sample_info.hpp"
#include "util/fs.hpp"

namespace engine::native {

namespace {

std::string lower(std::string s) {
    for (auto& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::vector<std::string> split_components(const std::string& path, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(sep, start);
        if (end == std::string::npos) {
            end = path.size();
        }
        if (end > start) {
            out.push_back(path.substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

// open_in_root: openat2 below `root_fd`, symlinks (absolute ones too) resolved inside it.
int open_in_root(int root_fd, const std::string& relative, int flags) {
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const std::string path = relative.empty() ? "." : relative;
    return static_cast<int>(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
}

// actual_name finds `name` in the directory `dir` (below root) ignoring case.
std::optional<std::string> actual_name(int root_fd, const std::string& dir,
                                       const std::string& name) {
    const int fd = open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return std::nullopt;
    }
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
        ::close(fd);
        return std::nullopt;
    }
    std::optional<std::string> found;
    while (const dirent* e = ::readdir(d)) {
        if (::strcasecmp(e->d_name, name.c_str()) == 0) {
            found = e->d_name;
            break;
        }
    }
    ::closedir(d);
    return found;
}

}  // namespace

std::optional<std::string> guest_unix_path(const std::string& windows_path,
                                           const std::string& prefix, bool creator_is_32bit) {
    std::string p = windows_path;
    for (const char* nt_prefix : {"\\??\\", "\\\\?\\"}) {
        if (p.rfind(nt_prefix, 0) == 0) {
            p = p.substr(4);
        }
    }
    if (p.size() < 3 || !std::isalpha(static_cast<unsigned char>(p[0])) || p[1] != ':' ||
        p[2] != '\\') {
        return std::nullopt;
    }
    const char drive = static_cast<char>(std::tolower(static_cast<unsigned char>(p[0])));
    auto parts = split_components(p.substr(3), '\\');
    for (const auto& part : parts) {
        if (part == ".." || part == "." || part.find('/') != std::string::npos) {
            return std::nullopt;
        }
    }
    std::string base;
    if (drive == 'c') {
        if (parts.size() >= 2 && lower(parts[0]) == "windows") {
            const std::string dir = lower(parts[1]);
            if (creator_is_32bit && dir == "system32") {
                parts[1] = "syswow64";
            } else if (creator_is_32bit && dir == "sysnative") {
                parts[1] = "system32";
            }
        }
        base = prefix;
        while (!base.empty() && base.front() == '/') {
            base.erase(base.begin());
        }
        base += "/drive_c";
    } else if (drive != 'z') {
        return std::nullopt;
    }
    std::string out = base;
    for (const auto& part : parts) {
        if (!out.empty()) {
            out += '/';
        }
        out += part;
    }
    return out;
}

int guest_image_bitness(const std::string& root_dir, const std::string& relative_path) {
    util::UniqueFd root(::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
        return 0;
    }
    int fd = open_in_root(root.get(), relative_path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        // Windows names are case-insensitive: find each component's real spelling.
        std::string resolved;
        for (const auto& part : split_components(relative_path, '/')) {
            auto name = actual_name(root.get(), resolved, part);
            if (!name) {
                return 0;
            }
            resolved += (resolved.empty() ? "" : "/") + *name;
        }
        fd = open_in_root(root.get(), resolved, O_RDONLY | O_NONBLOCK);
        if (fd < 0) {
            return 0;
        }
    }
    util::UniqueFd file(fd);
    struct stat st {};
    if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    // The PE headers sit in the first 4 KiB in practice; 64 KiB leaves room for a large DOS stub.
    std::string head(64 * 1024, '\0');
    ssize_t n = ::pread(file.get(), head.data(), head.size(), 0);
    if (n <= 0) {
        return 0;
    }
    head.resize(static_cast<std::size_t>(n));
    switch (inspect_sample(head).format) {
        case SampleFormat::Pe32:
            return 32;
        case SampleFormat::Pe64:
            return 64;
        default:
            return 0;
    }
}

}  // namespace engine::native
