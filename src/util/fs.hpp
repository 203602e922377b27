// util/fs.hpp — small file helpers shared by libraries (whole-file read/write, temp dirs, fds).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace util {

// read_file returns the whole file; throws util::SystemError naming the path.
std::string read_file(const std::filesystem::path& path);
// write_file writes atomically: a temp file in the same directory, fsync'd, then renamed.
void write_file_atomic(const std::filesystem::path& path, std::string_view data);

// UniqueFd owns a file descriptor (closed on destruction); move-only.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) {
            reset(o.release());
        }
        return *this;
    }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// TempDir creates a fresh directory under `parent` (default: $TMPDIR or /tmp) and removes it
// recursively on destruction unless keep() was called.
class TempDir {
public:
    explicit TempDir(const std::string& prefix = "drak", const std::filesystem::path& parent = {});
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    void keep() { keep_ = true; }

private:
    std::filesystem::path path_;
    bool keep_ = false;
};

}  // namespace util
