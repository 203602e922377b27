// postprocess/dumps.cpp — §6.2 crop_dumps with libzip.
#include "postprocess/dumps.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "util/error.hpp"
#include "util/logging.hpp"

namespace postprocess {
namespace {

namespace fs = std::filesystem;

constexpr size_t kFilesPerBatch = 128;  // bounds open FILE* handles held by libzip

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

struct ZipDiscard {
    void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipDiscard>;

std::string zip_error_text(zip_t* z) { return zip_strerror(z); }

ZipPtr open_zip(const fs::path& path, bool truncate) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | (truncate ? ZIP_TRUNCATE : 0), &err);
    if (z == nullptr) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        std::string msg = "zip_open " + path.string() + ": " + zip_error_strerror(&ze);
        zip_error_fini(&ze);
        throw util::Error(msg);
    }
    return ZipPtr(z);
}

void close_zip(ZipPtr z, const fs::path& path) {
    if (zip_close(z.get()) != 0) {
        throw util::Error("zip_close " + path.string() + ": " + zip_error_text(z.get()));
    }
    (void)z.release();  // zip_close freed it
}

struct Candidate {
    std::string name;
    uint64_t size;
};

}  // namespace

bool is_memdump_data_name(std::string_view name) {
    const size_t us = name.find('_');
    if (us == std::string_view::npos || us < 4 || us > 16 || name.size() != us + 17) {
        return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
        if (i != us && !is_lower_hex(name[i])) {
            return false;
        }
    }
    return true;
}

bool is_memdump_sidecar_name(std::string_view name) {
    static constexpr std::string_view kPrefix = "memdump.";
    static constexpr std::string_view kSuffix = ".metadata";
    if (name.size() < kPrefix.size() + 6 + kSuffix.size() || name.size() > 64 ||
        name.substr(0, kPrefix.size()) != kPrefix ||
        name.substr(name.size() - kSuffix.size()) != kSuffix) {
        return false;
    }
    for (char c : name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size())) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

std::optional<std::string> memdump_base_address(std::string_view name) {
    if (!is_memdump_data_name(name)) {
        return std::nullopt;
    }
    std::string_view hex = name.substr(0, name.find('_'));
    while (hex.size() > 1 && hex.front() == '0') {
        hex.remove_prefix(1);
    }
    return "0x" + std::string(hex);
}

DumpsResult crop_dumps(const fs::path& dumps_dir, const fs::path& zip_path, uint64_t cap_bytes,
                       bool delete_inputs) {
    auto log = util::logger("postprocess");
    if (!fs::is_directory(fs::symlink_status(dumps_dir))) {
        throw util::InputError(dumps_dir.string() + " is not a directory (symlinks refused)");
    }
    DumpsResult result;
    std::vector<Candidate> candidates;
    std::vector<std::string> regular_files;
    for (const auto& entry : fs::directory_iterator(dumps_dir)) {
        const std::string name = entry.path().filename().string();
        struct stat st {};
        if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            log->warn("dumps: skipping non-regular entry {}", name);
            ++result.ignored_files;
            continue;
        }
        regular_files.push_back(name);
        if (!is_memdump_data_name(name) && !is_memdump_sidecar_name(name)) {
            log->warn("dumps: skipping {} (not a memdump file name)", name);
            ++result.ignored_files;
            continue;
        }
        candidates.push_back({name, static_cast<uint64_t>(st.st_size)});
    }
    // Drop the largest first until the total fits the cap.
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        return a.size != b.size ? a.size > b.size : a.name < b.name;
    });
    uint64_t total = 0;
    for (const auto& c : candidates) {
        total += c.size;
    }
    size_t first_kept = 0;
    while (first_kept < candidates.size() && total > cap_bytes) {
        total -= candidates[first_kept].size;
        log->warn("dumps: dropping {} ({} bytes) to stay under {} bytes",
                  candidates[first_kept].name, candidates[first_kept].size, cap_bytes);
        ++result.dropped_files;
        ++first_kept;
    }
    std::vector<Candidate> kept(candidates.begin() + static_cast<std::ptrdiff_t>(first_kept),
                                candidates.end());
    std::sort(kept.begin(), kept.end(),
              [](const Candidate& a, const Candidate& b) { return a.name < b.name; });

    if (fs::exists(fs::symlink_status(zip_path))) {
        fs::remove(zip_path);
    }
    ZipPtr zip = open_zip(zip_path, true);
    size_t in_batch = 0;
    for (const auto& c : kept) {
        const fs::path path = dumps_dir / c.name;
        const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            log->warn("dumps: cannot open {}, skipped", c.name);
            continue;
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            log->warn("dumps: {} changed type, skipped", c.name);
            continue;
        }
        FILE* fp = ::fdopen(fd, "rb");
        if (fp == nullptr) {
            ::close(fd);
            throw util::Error("fdopen " + path.string());
        }
        zip_source_t* src = zip_source_filep(zip.get(), fp, 0, -1);
        if (src == nullptr) {
            std::fclose(fp);
            throw util::Error("zip_source_filep " + c.name + ": " + zip_error_text(zip.get()));
        }
        const std::string entry = "dumps/" + c.name;
        const zip_int64_t idx = zip_file_add(zip.get(), entry.c_str(), src, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(src);
            throw util::Error("zip_file_add " + entry + ": " + zip_error_text(zip.get()));
        }
        if (zip_set_file_compression(zip.get(), static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE,
                                     0) != 0) {
            throw util::Error("zip_set_file_compression " + entry);
        }
        ++result.packed_files;
        result.packed_bytes += static_cast<uint64_t>(st.st_size);
        if (auto base = memdump_base_address(c.name)) {
            result.metadata.push_back({{"filename", entry}, {"base_address", *base}});
        }
        if (++in_batch == kFilesPerBatch) {
            close_zip(std::move(zip), zip_path);
            zip = open_zip(zip_path, false);
            in_batch = 0;
        }
    }
    if (result.packed_bytes == 0) {
        if (zip_dir_add(zip.get(), "dumps", ZIP_FL_ENC_UTF_8) < 0) {
            throw util::Error("zip_dir_add dumps/: " + zip_error_text(zip.get()));
        }
    }
    close_zip(std::move(zip), zip_path);
    if (delete_inputs) {
        for (const auto& name : regular_files) {
            const fs::path path = dumps_dir / name;
            struct stat st {};
            if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
                ::unlink(path.c_str());
            }
        }
    }
    return result;
}

}  // namespace postprocess
