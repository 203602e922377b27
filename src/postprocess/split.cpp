// postprocess/split.cpp — §8.1 split_drakmon_log.
#include "postprocess/split.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>

#include "postprocess/internal/line_reader.hpp"
#include "postprocess/internal/output_file.hpp"
#include "postprocess/py_json.hpp"
#include "util/logging.hpp"

namespace postprocess {
namespace {

constexpr size_t kMaxCachedPluginValues = 4096;

bool is_py_strip_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c';
}

std::string_view py_strip(std::string_view s) {
    while (!s.empty() && is_py_strip_ws(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_py_strip_ws(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// One output log and the index of what was written to it.
struct Writer {
    Writer(const std::filesystem::path& path, uint64_t chunk_size)
        : file(std::make_unique<internal::OutputFile>(path)), index(chunk_size) {}
    std::unique_ptr<internal::OutputFile> file;
    LogIndexer index;
};

class Splitter {
  public:
    Splitter(const std::filesystem::path& out_dir, const Options& options)
        : out_dir_(out_dir), options_(options) {}

    void on_line(std::string_view raw, bool had_newline) {
        (void)had_newline;
        const std::string_view line = py_strip(raw);
        if (!line.empty() && parser_.parse(line)) {
            Writer& out = writer_for(parser_.get("Plugin"));
            out.file->append(parser_.encoded());
            out.file->append("\n");
            out.index.add_line(parser_.encoded().size() + 1);
            return;
        }
        fail(raw, attribute_failed_line(raw));
    }

    void on_oversize(std::string_view piece, bool first, bool last) {
        if (first) {
            oversize_plugin_ = attribute_failed_line(piece.substr(0, 4096));
        }
        errors().file->append(piece);
        oversize_bytes_ += piece.size();
        if (last) {
            errors().file->append("\n");
            errors().index.add_line(oversize_bytes_ + 1);
            oversize_bytes_ = 0;
            ++stats_.errors_per_plugin[oversize_plugin_];
        }
    }

    SplitStats finish() {
        for (auto& [name, out] : writers_) {
            out->file->close();
            stats_.indexes[name + ".log"] = {out->index.bytes(), out->index.json()};
        }
        if (errors_) {
            errors_->file->close();
            stats_.indexes["parse_errors.log"] = {errors_->index.bytes(), errors_->index.json()};
        }
        return std::move(stats_);
    }

    SplitStats& stats() { return stats_; }

  private:
    void fail(std::string_view raw, const std::string& plugin) {
        // Compat: the raw line goes to parse_errors.log; we always terminate it with '\n'.
        errors().file->append(raw);
        errors().file->append("\n");
        errors().index.add_line(raw.size() + 1);
        ++stats_.errors_per_plugin[plugin];
    }

    Writer& errors() {
        if (!errors_) {
            errors_ =
                std::make_unique<Writer>(out_dir_ / "parse_errors.log", options_.index_chunk_size);
        }
        return *errors_;
    }

    Writer& writer_for(std::optional<std::string_view> encoded_plugin) {
        const std::string_view key = encoded_plugin ? *encoded_plugin : std::string_view();
        if (last_ != nullptr && key == last_key_) {
            ++*last_count_;
            return *last_;
        }
        std::string name;
        if (auto it = by_encoded_.find(key); it != by_encoded_.end()) {
            name = it->second;
        } else {
            name = "unknown";
            if (encoded_plugin && !encoded_plugin->empty() && encoded_plugin->front() == '"') {
                if (auto decoded = py_decode_string(*encoded_plugin)) {
                    name = sanitize_plugin_name(*decoded);
                }
            }
            if (writers_.count(name) == 0 && writers_.size() >= options_.max_plugins) {
                name = "unknown";
            }
            // The cache is bounded too: hostile logs may carry millions of distinct values.
            if (by_encoded_.size() < kMaxCachedPluginValues) {
                by_encoded_.emplace(std::string(key), name);
            }
        }
        auto wit = writers_.find(name);
        if (wit == writers_.end()) {
            wit = writers_
                      .emplace(name, std::make_unique<Writer>(out_dir_ / (name + ".log"),
                                                              options_.index_chunk_size))
                      .first;
        }
        last_key_.assign(key);
        last_ = wit->second.get();
        last_count_ = &stats_.lines_per_plugin[name];
        ++*last_count_;
        return *last_;
    }

    std::filesystem::path out_dir_;
    const Options& options_;
    PyObjectParser parser_;
    std::map<std::string, std::string, std::less<>> by_encoded_;  // encoded Plugin → stem
    std::map<std::string, std::unique_ptr<Writer>> writers_;
    std::unique_ptr<Writer> errors_;
    std::string last_key_;
    Writer* last_ = nullptr;
    uint64_t oversize_bytes_ = 0;
    uint64_t* last_count_ = nullptr;
    std::string oversize_plugin_;
    SplitStats stats_;
};

}  // namespace

std::string sanitize_plugin_name(std::string_view plugin) {
    if (plugin.empty() || plugin.size() > 64 || plugin == "drakmon" || plugin == "parse_errors") {
        return "unknown";
    }
    for (char c : plugin) {
        if (!is_word(c) && c != '-') {
            return "unknown";
        }
    }
    return std::string(plugin);
}

std::string attribute_failed_line(std::string_view raw) {
    static constexpr std::string_view kNeedle = "\"Plugin\"";
    size_t pos = 0;
    while ((pos = raw.find(kNeedle, pos)) != std::string_view::npos) {
        size_t i = pos + kNeedle.size();
        pos = i;
        auto skip_ws = [&] {
            while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' ||
                                      raw[i] == '\n' || raw[i] == '\f' || raw[i] == '\v')) {
                ++i;
            }
        };
        skip_ws();
        if (i >= raw.size() || raw[i] != ':') {
            continue;
        }
        ++i;
        skip_ws();
        if (i >= raw.size() || raw[i] != '"') {
            continue;
        }
        const size_t start = ++i;
        while (i < raw.size() && is_word(raw[i])) {
            ++i;
        }
        if (i == start || i >= raw.size() || raw[i] != '"') {
            continue;
        }
        return sanitize_plugin_name(raw.substr(start, i - start));
    }
    return "unknown";
}

SplitStats split_log_file(const std::filesystem::path& log, const std::filesystem::path& out_dir,
                          const Options& options) {
    // A parse_errors.log from an earlier run would otherwise survive a clean re-split.
    std::filesystem::remove(out_dir / "parse_errors.log");
    Splitter splitter(out_dir, options);
    internal::LineCallbacks cb;
    cb.on_line = [&](std::string_view line, bool nl) { splitter.on_line(line, nl); };
    cb.on_oversize = [&](std::string_view piece, bool first, bool last, bool) {
        splitter.on_oversize(piece, first, last);
    };
    const uint64_t bytes = internal::for_each_line(log, options.max_line_bytes, cb);
    SplitStats stats = splitter.finish();
    stats.bytes_read = bytes;
    auto log_ = util::logger("postprocess");
    for (const auto& [plugin, count] : stats.errors_per_plugin) {
        log_->warn("Failed to parse {} lines generated by {}", count, plugin);
    }
    return stats;
}

}  // namespace postprocess
