// postprocess/tls_keys.cpp — §7.1 wireshark_key_file.txt.
#include "postprocess/tls_keys.hpp"

#include "postprocess/internal/line_reader.hpp"
#include "postprocess/internal/output_file.hpp"
#include "postprocess/py_json.hpp"
#include "util/logging.hpp"

namespace postprocess {
namespace {

bool is_hex_string(const std::string& s) {
    if (s.empty() || s.size() > 512) {
        return false;
    }
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

std::optional<std::string> key_line(PyObjectParser& parser, std::string_view line) {
    if (!parser.parse(line)) {
        return std::nullopt;
    }
    auto cr = parser.get("client_random");
    auto mk = parser.get("master_key");
    if (!cr || !mk) {
        return std::nullopt;
    }
    auto crs = py_decode_string(*cr);
    auto mks = py_decode_string(*mk);
    if (!crs || !mks || !is_hex_string(*crs) || !is_hex_string(*mks)) {
        return std::nullopt;
    }
    return "CLIENT_RANDOM " + *crs + " " + *mks + "\n";
}

}  // namespace

std::optional<std::string> wireshark_key_line(std::string_view tlsmon_line) {
    PyObjectParser parser;
    return key_line(parser, tlsmon_line);
}

uint64_t generate_wireshark_key_file(const std::filesystem::path& tlsmon_log,
                                     const std::filesystem::path& out) {
    PyObjectParser parser;
    internal::OutputFile file(out);
    uint64_t keys = 0;
    uint64_t skipped = 0;
    internal::LineCallbacks cb;
    cb.on_line = [&](std::string_view line, bool) {
        if (auto l = key_line(parser, line)) {
            file.append(*l);
            ++keys;
        } else {
            ++skipped;
        }
    };
    cb.on_oversize = [&](std::string_view, bool, bool last, bool) { skipped += last ? 1 : 0; };
    internal::for_each_line(tlsmon_log, 1u << 20, cb);
    file.close();
    if (skipped > 0) {
        util::logger("postprocess")->warn("tlsmon: {} lines without usable keys skipped", skipped);
    }
    return keys;
}

}  // namespace postprocess
