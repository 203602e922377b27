#include "util/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "util/error.hpp"
#include "util/ids.hpp"

namespace util {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw_errno("open " + path.string());
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        throw_errno("read " + path.string());
    }
    return ss.str();
}

void write_file_atomic(const std::filesystem::path& path, std::string_view data) {
    auto tmp = path;
    tmp += ".tmp-" + random_hex(4);
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
        throw_errno("create " + tmp.string());
    }
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            ::unlink(tmp.c_str());
            throw SystemError("write " + tmp.string(), e);
        }
        off += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw SystemError("flush " + tmp.string(), e);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw SystemError("rename " + tmp.string() + " -> " + path.string(), e);
    }
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

TempDir::TempDir(const std::string& prefix, const std::filesystem::path& parent) {
    std::filesystem::path base = parent;
    if (base.empty()) {
        const char* t = std::getenv("TMPDIR");
        base = (t != nullptr && *t != '\0') ? t : "/tmp";
    }
    std::string templ = (base / (prefix + "-XXXXXX")).string();
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
        throw_errno("mkdtemp " + templ);
    }
    path_ = buf.data();
}

TempDir::~TempDir() {
    if (!keep_) {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
}

}  // namespace util
