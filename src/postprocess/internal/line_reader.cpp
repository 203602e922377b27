// postprocess/internal/line_reader.cpp — chunked line reader.
#include "postprocess/internal/line_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace postprocess::internal {

namespace {
constexpr size_t kChunk = 1 << 20;
}

uint64_t for_each_line(const std::filesystem::path& path, uint64_t max_line_bytes,
                       const LineCallbacks& cb) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        util::throw_errno("open " + path.string());
    }
    std::vector<char> buf(kChunk);
    std::string carry;
    bool oversize = false;  // inside a line that exceeded max_line_bytes
    uint64_t total = 0;
    while (true) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            util::throw_errno("read " + path.string());
        }
        if (n == 0) {
            break;
        }
        total += static_cast<uint64_t>(n);
        const char* p = buf.data();
        const char* end = p + n;
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
            if (nl == nullptr) {
                if (oversize) {
                    cb.on_oversize(std::string_view(p, end - p), false, false, false);
                } else {
                    carry.append(p, end - p);
                    if (carry.size() > max_line_bytes) {
                        oversize = true;
                        cb.on_oversize(carry, true, false, false);
                        carry.clear();
                        carry.shrink_to_fit();
                    }
                }
                break;
            }
            const std::string_view piece(p, nl - p);
            if (oversize) {
                cb.on_oversize(piece, false, true, true);
                oversize = false;
            } else if (!carry.empty()) {
                if (carry.size() + piece.size() > max_line_bytes) {
                    cb.on_oversize(carry, true, false, false);
                    cb.on_oversize(piece, false, true, true);
                } else {
                    carry.append(piece);
                    cb.on_line(carry, true);
                }
                carry.clear();
                if (carry.capacity() > 4 * kChunk) {
                    carry.shrink_to_fit();
                }
            } else if (piece.size() > max_line_bytes) {
                cb.on_oversize(piece, true, true, true);
            } else {
                cb.on_line(piece, true);
            }
            p = nl + 1;
        }
    }
    if (oversize) {
        cb.on_oversize(std::string_view(), false, true, false);
    } else if (!carry.empty()) {
        cb.on_line(carry, false);
    }
    return total;
}

}  // namespace postprocess::internal
