// postprocess/internal/output_file.cpp — buffered, symlink-safe output file.
#include "postprocess/internal/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.hpp"
#include "util/logging.hpp"

namespace postprocess::internal {

OutputFile::OutputFile(const std::filesystem::path& path, size_t buffer_bytes)
    : path_(path), limit_(buffer_bytes) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        util::throw_errno("unlink " + path.string());
    }
    fd_ = util::UniqueFd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd_) {
        util::throw_errno("create " + path.string());
    }
    buf_.reserve(limit_);
}

OutputFile::~OutputFile() {
    if (fd_) {
        try {
            flush();
        } catch (const std::exception& e) {
            util::logger("postprocess")->error("{}", e.what());
        }
    }
}

void OutputFile::append(std::string_view data) {
    if (buf_.size() + data.size() > limit_) {
        flush();
        if (data.size() >= limit_) {
            buf_.assign(data);
            flush();
            return;
        }
    }
    buf_.append(data);
}

void OutputFile::flush() {
    const char* p = buf_.data();
    size_t left = buf_.size();
    while (left > 0) {
        const ssize_t n = ::write(fd_.get(), p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            util::throw_errno("write " + path_.string());
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    buf_.clear();
}

void OutputFile::close() {
    if (fd_) {
        flush();
        fd_.reset();
    }
}

void write_output(const std::filesystem::path& path, std::string_view data) {
    OutputFile f(path, 1);
    f.append(data);
    f.close();
}

}  // namespace postprocess::internal

namespace postprocess::internal {
void append_to_file(const std::filesystem::path& path, std::string_view data) {
    util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        util::throw_errno("open for append " + path.string());
    }
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd.get(), p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            util::throw_errno("write " + path.string());
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
}
}  // namespace postprocess::internal
