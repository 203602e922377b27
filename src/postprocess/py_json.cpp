// postprocess/py_json.cpp — Python json.dumps()-compatible re-encoder (spec §8.1).
#include "postprocess/py_json.hpp"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "util/utf8.hpp"

namespace postprocess {
namespace {

constexpr size_t kMaxIntDigits = 4300;  // Python's int max_str_digits default (3.11+)

// Byte classes for the string fast path: 0 = copy as is, 1 = needs attention.
constexpr std::array<uint8_t, 256> make_string_class() {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        t[c] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? 1 : 0;
    }
    return t;
}
constexpr auto kStringClass = make_string_class();

constexpr char kHex[] = "0123456789abcdef";

inline void append_u_escape(std::string& out, uint32_t unit) {
    char buf[6] = {'\\',
                   'u',
                   kHex[(unit >> 12) & 0xf],
                   kHex[(unit >> 8) & 0xf],
                   kHex[(unit >> 4) & 0xf],
                   kHex[unit & 0xf]};
    out.append(buf, 6);
}

// Appends one UTF-16 code unit (or a BMP code point) the way ensure_ascii does.
inline void append_code_unit(std::string& out, uint32_t u) {
    switch (u) {
        case '"':
            out += "\\\"";
            return;
        case '\\':
            out += "\\\\";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\r':
            out += "\\r";
            return;
        case '\t':
            out += "\\t";
            return;
        case '\b':
            out += "\\b";
            return;
        case '\f':
            out += "\\f";
            return;
        default:
            break;
    }
    if (u >= 0x20 && u < 0x7f) {
        out += static_cast<char>(u);
    } else {
        append_u_escape(out, u);
    }
}

inline void append_code_point(std::string& out, uint32_t cp) {
    if (cp < 0x10000) {
        append_code_unit(out, cp);
    } else {
        cp -= 0x10000;
        append_u_escape(out, 0xd800 | (cp >> 10));
        append_u_escape(out, 0xdc00 | (cp & 0x3ff));
    }
}

inline bool starts_with(const char* p, const char* end, std::string_view lit) {
    return static_cast<size_t>(end - p) >= lit.size() &&
           std::memcmp(p, lit.data(), lit.size()) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PyObjectParser

bool PyObjectParser::parse(std::string_view text) {
    out_.clear();
    members_.clear();
    top_spans_.clear();
    if (!simdjson::validate_utf8(text.data(), text.size())) {
        return false;
    }
    p_ = text.data();
    end_ = p_ + text.size();
    skip_ws();
    if (p_ == end_ || *p_ != '{') {
        return false;
    }
    if (!parse_object(1, &top_spans_)) {
        return false;
    }
    skip_ws();
    if (p_ != end_) {
        return false;
    }
    members_.reserve(top_spans_.size());
    for (const Span& s : top_spans_) {
        members_.push_back(
            {std::string_view(out_).substr(s.key_begin, s.key_end - s.key_begin),
             std::string_view(out_).substr(s.value_begin, s.value_end - s.value_begin)});
    }
    return true;
}

std::optional<std::string_view> PyObjectParser::get(std::string_view key) const {
    for (const Member& m : members_) {
        if (m.key.size() == key.size() + 2 && m.key.substr(1, key.size()) == key) {
            return m.value;
        }
    }
    return std::nullopt;
}

void PyObjectParser::skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
        ++p_;
    }
}

bool PyObjectParser::parse_value(int depth) {
    if (p_ == end_) {
        return false;
    }
    switch (*p_) {
        case '{': {
            std::vector<Span> spans;
            return parse_object(depth + 1, &spans);
        }
        case '[':
            return parse_array(depth + 1);
        case '"':
            return parse_string();
        case 't':
            if (starts_with(p_, end_, "true")) {
                out_ += "true";
                p_ += 4;
                return true;
            }
            return false;
        case 'f':
            if (starts_with(p_, end_, "false")) {
                out_ += "false";
                p_ += 5;
                return true;
            }
            return false;
        case 'n':
            if (starts_with(p_, end_, "null")) {
                out_ += "null";
                p_ += 4;
                return true;
            }
            return false;
        case 'N':
            if (starts_with(p_, end_, "NaN")) {
                out_ += "NaN";
                p_ += 3;
                return true;
            }
            return false;
        case 'I':
            if (starts_with(p_, end_, "Infinity")) {
                out_ += "Infinity";
                p_ += 8;
                return true;
            }
            return false;
        case '-':
            if (starts_with(p_, end_, "-Infinity")) {
                out_ += "-Infinity";
                p_ += 9;
                return true;
            }
            return parse_number();
        default:
            if (*p_ >= '0' && *p_ <= '9') {
                return parse_number();
            }
            return false;
    }
}

bool PyObjectParser::parse_object(int depth, std::vector<Span>* spans) {
    if (depth > kMaxDepth) {
        return false;
    }
    const size_t obj_begin = out_.size();
    ++p_;  // '{'
    out_ += '{';
    skip_ws();
    if (p_ != end_ && *p_ == '}') {
        ++p_;
        out_ += '}';
        return true;
    }
    while (true) {
        if (p_ == end_ || *p_ != '"') {
            return false;
        }
        Span s{};
        s.key_begin = out_.size();
        if (!parse_string()) {
            return false;
        }
        s.key_end = out_.size();
        skip_ws();
        if (p_ == end_ || *p_ != ':') {
            return false;
        }
        ++p_;
        out_.append(": ", 2);
        skip_ws();
        s.value_begin = out_.size();
        if (!parse_value(depth)) {
            return false;
        }
        s.value_end = out_.size();
        spans->push_back(s);
        skip_ws();
        if (p_ == end_) {
            return false;
        }
        if (*p_ == ',') {
            ++p_;
            out_.append(", ", 2);
            skip_ws();
            continue;
        }
        if (*p_ == '}') {
            ++p_;
            out_ += '}';
            break;
        }
        return false;
    }
    collapse_duplicates(obj_begin, *spans);
    return true;
}

void PyObjectParser::collapse_duplicates(size_t obj_begin, std::vector<Span>& spans) {
    const size_t n = spans.size();
    if (n < 2) {
        return;
    }
    auto key_of = [&](const Span& s) {
        return std::string_view(out_).substr(s.key_begin, s.key_end - s.key_begin);
    };
    // first[i] = index of the first member with the same key as member i.
    std::vector<size_t> first;
    bool any = false;
    if (n <= 32) {
        // Cheap pre-check: an 8-bit hash per key in a 256-bit set; only keys whose hash was
        // already seen are compared byte-wise.
        uint64_t seen_bits[4] = {0, 0, 0, 0};
        uint8_t hashes[32];
        for (size_t i = 0; i < n && !any; ++i) {
            const auto k = key_of(spans[i]);
            const auto h = static_cast<uint8_t>(k.size() * 31 + static_cast<uint8_t>(k[1]) * 7 +
                                                static_cast<uint8_t>(k[k.size() - 2]) * 3 +
                                                static_cast<uint8_t>(k[k.size() / 2]));
            hashes[i] = h;
            const uint64_t bit = 1ull << (h & 63);
            if ((seen_bits[h >> 6] & bit) != 0) {
                for (size_t j = 0; j < i; ++j) {
                    if (hashes[j] == h && key_of(spans[j]) == k) {
                        any = true;
                        break;
                    }
                }
            }
            seen_bits[h >> 6] |= bit;
        }
        if (!any) {
            return;
        }
        first.resize(n);
        for (size_t i = 0; i < n; ++i) {
            first[i] = i;
            for (size_t j = 0; j < i; ++j) {
                if (key_of(spans[j]) == key_of(spans[i])) {
                    first[i] = j;
                    break;
                }
            }
        }
    } else {
        std::unordered_map<std::string_view, size_t> seen;
        seen.reserve(n * 2);
        first.resize(n);
        for (size_t i = 0; i < n; ++i) {
            auto [it, inserted] = seen.emplace(key_of(spans[i]), i);
            first[i] = it->second;
            any = any || !inserted;
        }
        if (!any) {
            return;
        }
    }
    // value index for each first occurrence = last occurrence with that key.
    std::vector<size_t> value_of(n, SIZE_MAX);
    for (size_t i = 0; i < n; ++i) {
        value_of[first[i]] = i;
    }
    scratch_.clear();
    scratch_ += '{';
    std::vector<Span> collapsed;
    for (size_t i = 0; i < n; ++i) {
        if (first[i] != i) {
            continue;
        }
        if (!collapsed.empty()) {
            scratch_ += ", ";
        }
        const Span& k = spans[i];
        const Span& v = spans[value_of[i]];
        Span s{};
        s.key_begin = obj_begin + scratch_.size();
        scratch_.append(out_, k.key_begin, k.key_end - k.key_begin);
        s.key_end = obj_begin + scratch_.size();
        scratch_ += ": ";
        s.value_begin = obj_begin + scratch_.size();
        scratch_.append(out_, v.value_begin, v.value_end - v.value_begin);
        s.value_end = obj_begin + scratch_.size();
        collapsed.push_back(s);
    }
    scratch_ += '}';
    out_.resize(obj_begin);
    out_ += scratch_;
    spans = std::move(collapsed);
}

bool PyObjectParser::parse_array(int depth) {
    if (depth > kMaxDepth) {
        return false;
    }
    ++p_;  // '['
    out_ += '[';
    skip_ws();
    if (p_ != end_ && *p_ == ']') {
        ++p_;
        out_ += ']';
        return true;
    }
    while (true) {
        if (!parse_value(depth)) {
            return false;
        }
        skip_ws();
        if (p_ == end_) {
            return false;
        }
        if (*p_ == ',') {
            ++p_;
            out_.append(", ", 2);
            skip_ws();
            continue;
        }
        if (*p_ == ']') {
            ++p_;
            out_ += ']';
            return true;
        }
        return false;
    }
}

bool PyObjectParser::parse_string() {
    // The run of input bytes that can be copied verbatim starts at the opening quote; it
    // continues across escapes that are already in Python's canonical form.
    const char* run = p_;
    ++p_;
    while (true) {
        // SWAR fast path: skip 8 plain bytes at a time (no '"', '\\', control, DEL, non-ASCII).
        while (end_ - p_ >= 8) {
            uint64_t x;
            std::memcpy(&x, p_, 8);
            constexpr uint64_t kOnes = 0x0101010101010101ull;
            constexpr uint64_t kHigh = 0x8080808080808080ull;
            auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
            const uint64_t special = has_zero(x ^ (kOnes * '"')) | has_zero(x ^ (kOnes * '\\')) |
                                     has_zero(x ^ (kOnes * 0x7f)) | ((x - kOnes * 0x20) & ~x) | x;
            if ((special & kHigh) != 0) {
                break;
            }
            p_ += 8;
        }
        while (p_ != end_ && kStringClass[static_cast<unsigned char>(*p_)] == 0) {
            ++p_;
        }
        if (p_ == end_) {
            return false;
        }
        const unsigned char c = static_cast<unsigned char>(*p_);
        if (c == '"') {
            ++p_;
            out_.append(run, p_ - run);
            return true;
        }
        if (c < 0x20) {
            return false;  // Python strict mode: raw control characters are errors
        }
        if (c == '\\' && end_ - p_ >= 2) {
            const char e = p_[1];
            if (e == '"' || e == '\\' || e == 'n' || e == 'r' || e == 't' || e == 'b' || e == 'f') {
                p_ += 2;  // canonical already: stays in the verbatim run
                continue;
            }
        }
        out_.append(run, p_ - run);
        if (c == '\\') {
            if (end_ - p_ < 2) {
                return false;
            }
            const char e = p_[1];
            p_ += 2;
            switch (e) {
                case '"':
                    out_ += "\\\"";
                    break;
                case '\\':
                    out_ += "\\\\";
                    break;
                case '/':
                    out_ += '/';
                    break;
                case 'b':
                    out_ += "\\b";
                    break;
                case 'f':
                    out_ += "\\f";
                    break;
                case 'n':
                    out_ += "\\n";
                    break;
                case 'r':
                    out_ += "\\r";
                    break;
                case 't':
                    out_ += "\\t";
                    break;
                case 'u': {
                    if (end_ - p_ < 4) {
                        return false;
                    }
                    uint32_t unit = 0;
                    for (int i = 0; i < 4; ++i) {
                        const int h = util::hex_digit_value(p_[i]);
                        if (h < 0) {
                            return false;
                        }
                        unit = (unit << 4) | static_cast<uint32_t>(h);
                    }
                    p_ += 4;
                    // A surrogate pair and two separately encoded halves re-encode to the
                    // same text, so units are handled one at a time.
                    append_code_unit(out_, unit);
                    break;
                }
                default:
                    return false;
            }
            run = p_;
            continue;
        }
        if (c == 0x7f) {
            out_ += "\\u007f";
            ++p_;
            run = p_;
            continue;
        }
        uint32_t cp = 0;
        const size_t len = util::decode_utf8(reinterpret_cast<const unsigned char*>(p_),
                                             reinterpret_cast<const unsigned char*>(end_), cp);
        if (len == 0) {
            return false;
        }
        p_ += len;
        append_code_point(out_, cp);
        run = p_;
    }
}

bool PyObjectParser::parse_number() {
    const char* start = p_;
    if (*p_ == '-') {
        ++p_;
    }
    if (p_ == end_) {
        return false;
    }
    if (*p_ == '0') {
        ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
            ++p_;
        }
    } else {
        return false;
    }
    bool is_float = false;
    if (p_ != end_ && *p_ == '.' && end_ - p_ >= 2 && p_[1] >= '0' && p_[1] <= '9') {
        is_float = true;
        p_ += 2;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
            ++p_;
        }
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
        const char* q = p_ + 1;
        if (q != end_ && (*q == '+' || *q == '-')) {
            ++q;
        }
        if (q != end_ && *q >= '0' && *q <= '9') {
            while (q != end_ && *q >= '0' && *q <= '9') {
                ++q;
            }
            is_float = true;
            p_ = q;
        }
        // else: Python backtracks; the 'e' becomes trailing garbage and fails later.
    }
    const std::string_view token(start, p_ - start);
    if (!is_float) {
        const size_t digits = token.size() - (token[0] == '-' ? 1 : 0);
        if (digits > kMaxIntDigits) {
            return false;  // Python raises ValueError (int max_str_digits)
        }
        if (token == "-0") {
            out_ += '0';
        } else {
            out_ += token;
        }
        return true;
    }
    scratch_.assign(token);
    const double v = std::strtod(scratch_.c_str(), nullptr);  // correctly rounded, ±inf on overflow
    out_ += py_float_repr(v);
    return true;
}

// ---------------------------------------------------------------------------------------------
// Free functions

std::string py_float_repr(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "Infinity" : "-Infinity";
    }
    if (value == 0.0) {
        return std::signbit(value) ? "-0.0" : "0.0";
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string_view sci(buf, res.ptr - buf);  // "-d.ddde+XX"
    std::string out;
    if (sci.front() == '-') {
        out += '-';
        sci.remove_prefix(1);
    }
    const size_t epos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, epos)) {
        if (c != '.') {
            digits += c;
        }
    }
    int exp10 = 0;
    std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                    exp10);
    const int decpt = exp10 + 1;  // value = 0.DIGITS * 10^decpt
    const int nd = static_cast<int>(digits.size());
    if (decpt <= -4 || decpt > 16) {
        out += digits[0];
        if (nd > 1) {
            out += '.';
            out.append(digits, 1, std::string::npos);
        }
        out += 'e';
        out += exp10 < 0 ? '-' : '+';
        const int a = exp10 < 0 ? -exp10 : exp10;
        if (a < 10) {
            out += '0';
        }
        out += std::to_string(a);
    } else if (decpt <= 0) {
        out += "0.";
        out.append(static_cast<size_t>(-decpt), '0');
        out += digits;
    } else if (decpt >= nd) {
        out += digits;
        out.append(static_cast<size_t>(decpt - nd), '0');
        out += ".0";
    } else {
        out.append(digits, 0, static_cast<size_t>(decpt));
        out += '.';
        out.append(digits, static_cast<size_t>(decpt), std::string::npos);
    }
    return out;
}

void py_append_string(std::string& out, std::string_view utf8) {
    out += '"';
    const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
    const auto* end = p + utf8.size();
    while (p != end) {
        if (kStringClass[*p] == 0) {
            out += static_cast<char>(*p++);
            continue;
        }
        if (*p < 0x80) {
            append_code_unit(out, *p++);
            continue;
        }
        uint32_t cp = 0;
        size_t len = util::decode_utf8(p, end, cp);
        if (len == 0) {
            cp = 0xfffd;
            len = 1;
        }
        p += len;
        append_code_point(out, cp);
    }
    out += '"';
}

std::optional<std::string> py_decode_string(std::string_view enc) {
    if (enc.size() < 2 || enc.front() != '"' || enc.back() != '"') {
        return std::nullopt;
    }
    enc = enc.substr(1, enc.size() - 2);
    std::string out;
    out.reserve(enc.size());
    uint32_t pending_high = 0;
    auto flush_high = [&] {
        if (pending_high != 0) {
            util::append_utf8(out, 0xfffd);
            pending_high = 0;
        }
    };
    for (size_t i = 0; i < enc.size(); ++i) {
        const char c = enc[i];
        if (c != '\\') {
            flush_high();
            out += c;
            continue;
        }
        if (i + 1 >= enc.size()) {
            return std::nullopt;
        }
        const char e = enc[++i];
        uint32_t unit = 0;
        switch (e) {
            case '"':
                unit = '"';
                break;
            case '\\':
                unit = '\\';
                break;
            case '/':
                unit = '/';
                break;
            case 'n':
                unit = '\n';
                break;
            case 'r':
                unit = '\r';
                break;
            case 't':
                unit = '\t';
                break;
            case 'b':
                unit = '\b';
                break;
            case 'f':
                unit = '\f';
                break;
            case 'u': {
                if (i + 4 >= enc.size()) {
                    return std::nullopt;
                }
                for (int k = 1; k <= 4; ++k) {
                    const int h = util::hex_digit_value(enc[i + k]);
                    if (h < 0) {
                        return std::nullopt;
                    }
                    unit = (unit << 4) | static_cast<uint32_t>(h);
                }
                i += 4;
                break;
            }
            default:
                return std::nullopt;
        }
        if (unit >= 0xd800 && unit <= 0xdbff) {
            flush_high();
            pending_high = unit;
            continue;
        }
        if (unit >= 0xdc00 && unit <= 0xdfff) {
            if (pending_high != 0) {
                util::append_utf8(out, 0x10000 + ((pending_high - 0xd800) << 10) + (unit - 0xdc00));
                pending_high = 0;
            } else {
                util::append_utf8(out, 0xfffd);
            }
            continue;
        }
        flush_high();
        util::append_utf8(out, unit);
    }
    flush_high();
    return out;
}

std::optional<int64_t> py_decode_int(std::string_view enc) {
    int64_t v = 0;
    auto res = std::from_chars(enc.data(), enc.data() + enc.size(), v);
    if (res.ec != std::errc() || res.ptr != enc.data() + enc.size()) {
        return std::nullopt;
    }
    return v;
}

void py_dump_to(std::string& out, const nlohmann::ordered_json& v) {
    using T = nlohmann::ordered_json::value_t;
    switch (v.type()) {
        case T::null:
        case T::discarded:
        case T::binary:
            out += "null";
            return;
        case T::boolean:
            out += v.get<bool>() ? "true" : "false";
            return;
        case T::number_integer:
            out += std::to_string(v.get<int64_t>());
            return;
        case T::number_unsigned:
            out += std::to_string(v.get<uint64_t>());
            return;
        case T::number_float:
            out += py_float_repr(v.get<double>());
            return;
        case T::string:
            py_append_string(out, v.get_ref<const std::string&>());
            return;
        case T::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v) {
                if (!first) {
                    out += ", ";
                }
                first = false;
                py_dump_to(out, e);
            }
            out += ']';
            return;
        }
        case T::object: {
            out += '{';
            bool first = true;
            for (const auto& [k, e] : v.items()) {
                if (!first) {
                    out += ", ";
                }
                first = false;
                py_append_string(out, k);
                out += ": ";
                py_dump_to(out, e);
            }
            out += '}';
            return;
        }
    }
}

std::string py_dumps(const nlohmann::ordered_json& value) {
    std::string out;
    py_dump_to(out, value);
    return out;
}

}  // namespace postprocess
