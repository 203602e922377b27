// postprocess/metadata.cpp — metadata.json merge.
#include "postprocess/metadata.hpp"

#include <sys/stat.h>

#include <set>

#include "postprocess/internal/output_file.hpp"
#include "postprocess/py_json.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace postprocess {

void merge_metadata(const std::filesystem::path& path, const nlohmann::ordered_json& extra) {
    constexpr off_t kMaxBytes = 16 << 20;
    std::string out = "{";
    bool first = true;
    auto add = [&](std::string_view key, std::string_view value) {
        if (!first) {
            out += ", ";
        }
        first = false;
        out += key;
        out += ": ";
        out += value;
    };
    std::set<std::string> done;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode) || st.st_size > kMaxBytes) {
            throw util::InputError(path.string() + ": not a regular file of at most 16 MiB");
        }
        const std::string text = util::read_file(path);
        PyObjectParser parser;
        if (!parser.parse(text)) {
            throw util::InputError(path.string() + ": not a JSON object");
        }
        for (const auto& m : parser.members()) {
            auto key = py_decode_string(m.key);
            if (key && extra.contains(*key)) {
                add(m.key, py_dumps(extra.at(*key)));
                done.insert(*key);
            } else {
                add(m.key, m.value);
            }
        }
    }
    for (const auto& [key, value] : extra.items()) {
        if (done.count(key) != 0) {
            continue;
        }
        std::string k;
        py_append_string(k, key);
        add(k, py_dumps(value));
    }
    out += '}';
    util::write_file_atomic(path, out);
}

}  // namespace postprocess
