// postprocess/log_index.cpp — §8.3 index_logs.
#include "postprocess/log_index.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "postprocess/internal/output_file.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace postprocess {
namespace {

class Indexer {
  public:
    explicit Indexer(uint64_t chunk_size) : ix_(chunk_size) {}
    void feed(std::string_view data) {
        const char* p = data.data();
        const char* end = p + data.size();
        while (p < end) {
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
            if (nl == nullptr) {
                pending_ += static_cast<uint64_t>(end - p);
                return;
            }
            ix_.add_line(pending_ + static_cast<uint64_t>(nl - p) + 1);
            pending_ = 0;
            p = nl + 1;
        }
    }
    std::string finish() {
        if (pending_ > 0) {
            ix_.add_line(pending_);
            pending_ = 0;
        }
        return ix_.json();
    }

  private:
    LogIndexer ix_;
    uint64_t pending_ = 0;
};

}  // namespace

LogIndexer::LogIndexer(uint64_t chunk_size) : chunk_size_(chunk_size) {}

void LogIndexer::add_line(uint64_t n) {
    ++lines_;  // k counted from 1
    if (chunk_ + n >= chunk_size_) {
        // Compat: `line` is k (one more than the zero-based index of the line at offset).
        markers_ += ", {\"line\": " + std::to_string(lines_) +
                    ", \"offset\": " + std::to_string(offset_) + "}";
        chunk_ = 0;
    }
    chunk_ += n;
    offset_ += n;
}

std::string LogIndexer::json() const {
    return "{\"markers\": [{\"line\": 0, \"offset\": 0}" + markers_ +
           "], \"num_lines\": " + std::to_string(lines_) +
           ", \"chunk_size\": " + std::to_string(chunk_size_) + "}";
}

std::string index_bytes(std::string_view data, uint64_t chunk_size) {
    Indexer ix(chunk_size);
    ix.feed(data);
    return ix.finish();
}

std::string index_log_file(const std::filesystem::path& log, uint64_t chunk_size) {
    util::UniqueFd fd(::open(log.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        util::throw_errno("open " + log.string());
    }
    Indexer ix(chunk_size);
    std::vector<char> buf(1 << 20);
    while (true) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            util::throw_errno("read " + log.string());
        }
        if (n == 0) {
            break;
        }
        ix.feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    return ix.finish();
}

size_t index_logs(const std::filesystem::path& dir, uint64_t chunk_size,
                  const std::map<std::string, PrecomputedIndex>* precomputed) {
    namespace fs = std::filesystem;
    std::vector<fs::path> logs;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto st = entry.symlink_status();
        if (fs::is_regular_file(st) && entry.path().extension() == ".log") {
            logs.push_back(entry.path());
        }
    }
    std::sort(logs.begin(), logs.end());
    const fs::path index_dir = dir / "index";
    if (fs::is_symlink(fs::symlink_status(index_dir))) {
        fs::remove(index_dir);
    }
    fs::create_directories(index_dir);
    for (const auto& log : logs) {
        const std::string name = log.filename().string();
        if (precomputed != nullptr) {
            auto it = precomputed->find(name);
            if (it != precomputed->end() && fs::file_size(log) == it->second.size) {
                internal::write_output(index_dir / (name + ".json"), it->second.json);
                continue;
            }
        }
        internal::write_output(index_dir / (name + ".json"), index_log_file(log, chunk_size));
    }
    return logs.size();
}

}  // namespace postprocess
