// karton/json.cpp — Python-dialect JSON parser and json.dumps-compatible writer (spec §3).
#include "karton/json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>

namespace karton::json {

// ---------------------------------------------------------------------------------------------
// Object

Object::Object(std::initializer_list<Entry> init) {
    entries_.reserve(init.size());
    for (const auto& e : init) {
        set(e.first, e.second);
    }
}

const Value* Object::find(std::string_view key) const {
    for (const auto& e : entries_) {
        if (e.first == key) {
            return &e.second;
        }
    }
    return nullptr;
}

Value* Object::find(std::string_view key) {
    for (auto& e : entries_) {
        if (e.first == key) {
            return &e.second;
        }
    }
    return nullptr;
}

const Value& Object::at(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) {
        throw JsonError("missing key \"" + std::string(key) + "\"");
    }
    return *v;
}

void Object::set(std::string key, Value value) {
    if (Value* v = find(key)) {
        *v = std::move(value);
        return;
    }
    entries_.emplace_back(std::move(key), std::move(value));
}

bool Object::erase(std::string_view key) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.first == key; });
    if (it == entries_.end()) {
        return false;
    }
    entries_.erase(it);
    return true;
}

Value& Object::operator[](std::string_view key) {
    if (Value* v = find(key)) {
        return *v;
    }
    entries_.emplace_back(std::string(key), Value());
    return entries_.back().second;
}

bool Object::operator==(const Object& o) const {
    if (entries_.size() != o.entries_.size()) {
        return false;
    }
    for (std::size_t k = 0; k < entries_.size(); ++k) {
        // Fast path: same position holds the same key.
        const Entry& e = entries_[k];
        const Value* other =
            o.entries_[k].first == e.first ? &o.entries_[k].second : o.find(e.first);
        if (other == nullptr || !(*other == e.second)) {
            return false;
        }
    }
    return true;
}

void Object::append_unchecked(std::string key, Value value) {
    entries_.emplace_back(std::move(key), std::move(value));
}

// ---------------------------------------------------------------------------------------------
// Value accessors

const char* type_name(Value::Type t) {
    switch (t) {
        case Value::Type::Null:
            return "null";
        case Value::Type::Bool:
            return "bool";
        case Value::Type::Int:
        case Value::Type::BigInt:
            return "int";
        case Value::Type::Float:
            return "float";
        case Value::Type::String:
            return "str";
        case Value::Type::Array:
            return "list";
        case Value::Type::Object:
            return "dict";
    }
    return "?";
}

namespace {

[[noreturn]] void type_mismatch(const char* expected, Value::Type got) {
    throw JsonError(std::string("expected ") + expected + ", got " + type_name(got));
}

}  // namespace

namespace {

bool is_nonempty_container(const Value& v) {
    return (v.is_array() && !v.as_array().empty()) || (v.is_object() && !v.as_object().empty());
}

}  // namespace

Value::~Value() {
    // Fast path: scalars and containers whose children are all leaves need no work list.
    auto* array = std::get_if<Array>(&v_);
    auto* object = std::get_if<Object>(&v_);
    if (array == nullptr && object == nullptr) {
        return;
    }
    // Ordinary documents: destroy the children right here, recursively (no allocation).
    thread_local int depth = 0;
    constexpr int kRecursiveLevels = 64;
    if (depth < kRecursiveLevels) {
        ++depth;
        if (array != nullptr) {
            array->clear();
        } else {
            object->clear();
        }
        --depth;
        return;
    }
    // Deeper than that: move every nested non-empty container onto a heap work list and empty it there; each
    // value then dies with leaf-only children, so the recursion is at most one level deep.
    std::vector<Value> pending;
    auto take_children = [&pending](Array* a, Object* o) {
        if (a != nullptr) {
            for (auto& child : *a) {
                if (is_nonempty_container(child)) {
                    pending.push_back(std::move(child));
                }
            }
            a->clear();
        } else if (o != nullptr) {
            for (auto& entry : *o) {
                if (is_nonempty_container(entry.second)) {
                    pending.push_back(std::move(entry.second));
                }
            }
            o->clear();
        }
    };
    take_children(array, object);
    while (!pending.empty()) {
        Value current = std::move(pending.back());
        pending.pop_back();
        take_children(std::get_if<Array>(&current.v_), std::get_if<Object>(&current.v_));
    }
}

bool Value::as_bool() const {
    if (!is_bool()) {
        type_mismatch("bool", type());
    }
    return std::get<bool>(v_);
}

std::int64_t Value::as_int() const {
    if (!is_int()) {
        type_mismatch("int", type());
    }
    return std::get<std::int64_t>(v_);
}

double Value::as_float() const {
    switch (type()) {
        case Type::Float:
            return std::get<double>(v_);
        case Type::Int:
            return static_cast<double>(std::get<std::int64_t>(v_));
        case Type::Bool:
            return std::get<bool>(v_) ? 1.0 : 0.0;
        case Type::BigInt: {
            const std::string& d = std::get<BigInt>(v_).digits;
            double out = 0.0;
            auto r = std::from_chars(d.data(), d.data() + d.size(), out);
            if (r.ec == std::errc::result_out_of_range) {
                return d.starts_with('-') ? -HUGE_VAL : HUGE_VAL;
            }
            return out;
        }
        default:
            type_mismatch("float", type());
    }
}

const BigInt& Value::as_bigint() const {
    if (!is_bigint()) {
        type_mismatch("int", type());
    }
    return std::get<BigInt>(v_);
}

const std::string& Value::as_string() const {
    if (!is_string()) {
        type_mismatch("str", type());
    }
    return std::get<std::string>(v_);
}

std::string& Value::as_string() {
    if (!is_string()) {
        type_mismatch("str", type());
    }
    return std::get<std::string>(v_);
}

const Array& Value::as_array() const {
    if (!is_array()) {
        type_mismatch("list", type());
    }
    return std::get<Array>(v_);
}

Array& Value::as_array() {
    if (!is_array()) {
        type_mismatch("list", type());
    }
    return std::get<Array>(v_);
}

const Object& Value::as_object() const {
    if (!is_object()) {
        type_mismatch("dict", type());
    }
    return std::get<Object>(v_);
}

Object& Value::as_object() {
    if (!is_object()) {
        type_mismatch("dict", type());
    }
    return std::get<Object>(v_);
}

// ---------------------------------------------------------------------------------------------
// UTF-8 helpers

namespace {

// append_utf8 writes code point `cp` (surrogates in generalized form, "WTF-8").
void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// decode_utf8 reads one code point at s[i] (WTF-8 surrogates accepted); returns the number of
// bytes consumed, or 0 when the sequence is invalid.
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF) {
        return 0;
    }
    return len;
}

constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(std::string& out, std::uint32_t unit) {
    char buf[6] = {'\\',
                   'u',
                   kHex[(unit >> 12) & 0xF],
                   kHex[(unit >> 8) & 0xF],
                   kHex[(unit >> 4) & 0xF],
                   kHex[unit & 0xF]};
    out.append(buf, 6);
}

// Python's int() refuses decimal text longer than this (CPython 3.11 default
// sys.get_int_max_str_digits()); json.loads raises ValueError for such integers.
constexpr std::size_t kMaxIntDigits = 4300;

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  public:
    Parser(std::string_view text, std::size_t max_depth) : s_(text), max_depth_(max_depth) {}

    Value run() {
        if (s_.size() >= 3 && static_cast<unsigned char>(s_[0]) == 0xEF &&
            static_cast<unsigned char>(s_[1]) == 0xBB &&
            static_cast<unsigned char>(s_[2]) == 0xBF) {
            fail("unexpected UTF-8 BOM");
        }
        skip_ws();
        Value v = parse_value(0);
        skip_ws();
        if (i_ != s_.size()) {
            fail("extra data");
        }
        return v;
    }

  private:
    [[noreturn]] void fail(const std::string& why) const {
        throw JsonError("invalid JSON at byte " + std::to_string(i_) + ": " + why);
    }

    void skip_ws() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
            ++i_;
        }
    }

    bool consume_literal(std::string_view lit) {
        if (s_.substr(i_, lit.size()) == lit) {
            i_ += lit.size();
            return true;
        }
        return false;
    }

    Value parse_value(std::size_t depth) {
        if (i_ >= s_.size()) {
            fail("expecting value");
        }
        const char c = s_[i_];
        switch (c) {
            case '{':
                return parse_object(depth + 1);
            case '[':
                return parse_array(depth + 1);
            case '"': {
                std::string str;
                parse_string(str);
                return Value(std::move(str));
            }
            case 'n':
                if (consume_literal("null")) {
                    return Value(nullptr);
                }
                break;
            case 't':
                if (consume_literal("true")) {
                    return Value(true);
                }
                break;
            case 'f':
                if (consume_literal("false")) {
                    return Value(false);
                }
                break;
            case 'N':
                if (consume_literal("NaN")) {
                    return Value(std::numeric_limits<double>::quiet_NaN());
                }
                break;
            case 'I':
                if (consume_literal("Infinity")) {
                    return Value(HUGE_VAL);
                }
                break;
            case '-':
                if (consume_literal("-Infinity")) {
                    return Value(-HUGE_VAL);
                }
                return parse_number();
            default:
                if (c >= '0' && c <= '9') {
                    return parse_number();
                }
                break;
        }
        fail("expecting value");
    }

    void check_depth(std::size_t depth) const {
        if (depth > max_depth_) {
            fail("nesting deeper than " + std::to_string(max_depth_));
        }
    }

    Value parse_array(std::size_t depth) {
        check_depth(depth);
        ++i_;  // '['
        Array arr;
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ']') {
            ++i_;
            return Value(std::move(arr));
        }
        for (;;) {
            skip_ws();
            arr.push_back(parse_value(depth));
            skip_ws();
            if (i_ >= s_.size()) {
                fail("expecting ',' delimiter");
            }
            if (s_[i_] == ',') {
                ++i_;
                continue;
            }
            if (s_[i_] == ']') {
                ++i_;
                return Value(std::move(arr));
            }
            fail("expecting ',' delimiter");
        }
    }

    Value parse_object(std::size_t depth) {
        check_depth(depth);
        ++i_;  // '{'
        Object obj;
        // Large objects use an index so last-wins duplicate handling stays linear.
        std::unordered_map<std::string, std::size_t> index;
        constexpr std::size_t kIndexFrom = 16;
        skip_ws();
        if (i_ < s_.size() && s_[i_] == '}') {
            ++i_;
            return Value(std::move(obj));
        }
        for (;;) {
            skip_ws();
            if (i_ >= s_.size() || s_[i_] != '"') {
                fail("expecting property name enclosed in double quotes");
            }
            std::string key;
            parse_string(key);
            skip_ws();
            if (i_ >= s_.size() || s_[i_] != ':') {
                fail("expecting ':' delimiter");
            }
            ++i_;
            skip_ws();
            Value v = parse_value(depth);
            if (obj.size() < kIndexFrom) {
                if (Value* existing = obj.find(key)) {
                    *existing = std::move(v);
                } else {
                    obj.append_unchecked(std::move(key), std::move(v));
                    if (obj.size() == kIndexFrom) {
                        for (std::size_t k = 0; k < obj.size(); ++k) {
                            index.emplace(obj.entries()[k].first, k);
                        }
                    }
                }
            } else {
                auto it = index.find(key);
                if (it != index.end()) {
                    (obj.begin() + static_cast<std::ptrdiff_t>(it->second))->second = std::move(v);
                } else {
                    index.emplace(key, obj.size());
                    obj.append_unchecked(std::move(key), std::move(v));
                }
            }
            skip_ws();
            if (i_ >= s_.size()) {
                fail("expecting ',' delimiter");
            }
            if (s_[i_] == ',') {
                ++i_;
                continue;
            }
            if (s_[i_] == '}') {
                ++i_;
                return Value(std::move(obj));
            }
            fail("expecting ',' delimiter");
        }
    }

    std::uint32_t read_hex4() {
        if (i_ + 4 > s_.size()) {
            fail("invalid \\uXXXX escape");
        }
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char h = s_[i_ + static_cast<std::size_t>(k)];
            v <<= 4;
            if (h >= '0' && h <= '9') {
                v |= static_cast<std::uint32_t>(h - '0');
            } else if (h >= 'a' && h <= 'f') {
                v |= static_cast<std::uint32_t>(h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
                v |= static_cast<std::uint32_t>(h - 'A' + 10);
            } else {
                fail("invalid \\uXXXX escape");
            }
        }
        i_ += 4;
        return v;
    }

    void parse_string(std::string& out) {
        ++i_;  // opening quote
        for (;;) {
            // Fast path: copy a run of plain ASCII.
            std::size_t start = i_;
            while (i_ < s_.size()) {
                const auto b = static_cast<unsigned char>(s_[i_]);
                if (b == '"' || b == '\\' || b < 0x20 || b >= 0x80) {
                    break;
                }
                ++i_;
            }
            out.append(s_.data() + start, i_ - start);
            if (i_ >= s_.size()) {
                fail("unterminated string");
            }
            const auto b = static_cast<unsigned char>(s_[i_]);
            if (b == '"') {
                ++i_;
                return;
            }
            if (b < 0x20) {
                fail("invalid control character in string");
            }
            if (b >= 0x80) {
                std::uint32_t cp = 0;
                const std::size_t n = decode_utf8(s_, i_, cp);
                if (n == 0) {
                    fail("invalid UTF-8");
                }
                out.append(s_.data() + i_, n);
                i_ += n;
                continue;
            }
            // backslash escape
            ++i_;
            if (i_ >= s_.size()) {
                fail("unterminated string");
            }
            const char e = s_[i_++];
            switch (e) {
                case '"':
                    out.push_back('"');
                    break;
                case '\\':
                    out.push_back('\\');
                    break;
                case '/':
                    out.push_back('/');
                    break;
                case 'b':
                    out.push_back('\b');
                    break;
                case 'f':
                    out.push_back('\f');
                    break;
                case 'n':
                    out.push_back('\n');
                    break;
                case 'r':
                    out.push_back('\r');
                    break;
                case 't':
                    out.push_back('\t');
                    break;
                case 'u': {
                    std::uint32_t cp = read_hex4();
                    // A high surrogate directly followed by a low-surrogate escape is one
                    // astral character; otherwise the lone surrogate is kept (as Python does).
                    if (cp >= 0xD800 && cp <= 0xDBFF && i_ + 6 <= s_.size() && s_[i_] == '\\' &&
                        s_[i_ + 1] == 'u') {
                        const std::size_t save = i_;
                        i_ += 2;
                        const std::uint32_t lo = read_hex4();
                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else {
                            i_ = save;
                        }
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    --i_;
                    fail("invalid \\escape");
            }
        }
    }

    Value parse_number() {
        const std::size_t start = i_;
        bool neg = false;
        if (s_[i_] == '-') {
            neg = true;
            ++i_;
        }
        const std::size_t int_start = i_;
        if (i_ >= s_.size() || !(s_[i_] >= '0' && s_[i_] <= '9')) {
            fail("expecting value");
        }
        if (s_[i_] == '0') {
            ++i_;
        } else {
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                ++i_;
            }
        }
        const std::size_t int_end = i_;
        bool is_float = false;
        std::size_t frac_start = 0;
        std::size_t frac_end = 0;
        if (i_ + 1 < s_.size() && s_[i_] == '.' && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') {
            is_float = true;
            ++i_;
            frac_start = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                ++i_;
            }
            frac_end = i_;
        }
        std::int64_t exp_value = 0;
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            std::size_t j = i_ + 1;
            bool exp_neg = false;
            if (j < s_.size() && (s_[j] == '+' || s_[j] == '-')) {
                exp_neg = s_[j] == '-';
                ++j;
            }
            if (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') {
                is_float = true;
                while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') {
                    if (exp_value < 1000000000) {
                        exp_value = exp_value * 10 + (s_[j] - '0');
                    }
                    ++j;
                }
                if (exp_neg) {
                    exp_value = -exp_value;
                }
                i_ = j;
            }
            // Python's scanner stops before a bare 'e'; the caller then reports extra data.
        }
        const std::string_view text = s_.substr(start, i_ - start);
        if (!is_float) {
            std::int64_t iv = 0;
            auto r = std::from_chars(text.data(), text.data() + text.size(), iv);
            if (r.ec == std::errc() && r.ptr == text.data() + text.size()) {
                return Value(static_cast<long long>(iv));
            }
            if (int_end - int_start > kMaxIntDigits) {
                fail("integer exceeds the limit (4300 digits) for integer string conversion");
            }
            return Value(BigInt{std::string(text)});
        }
        double d = 0.0;
        auto r = std::from_chars(text.data(), text.data() + text.size(), d);
        if (r.ec == std::errc::result_out_of_range) {
            // Decide overflow vs underflow from the decimal magnitude of the mantissa.
            std::string_view ip = s_.substr(int_start, int_end - int_start);
            std::string_view fp = frac_end > frac_start
                                      ? s_.substr(frac_start, frac_end - frac_start)
                                      : std::string_view();
            std::int64_t first_nz = -1;
            std::int64_t pos = 0;
            for (char ch : ip) {
                if (ch != '0' && first_nz < 0) {
                    first_nz = pos;
                }
                ++pos;
            }
            for (char ch : fp) {
                if (ch != '0' && first_nz < 0) {
                    first_nz = pos;
                }
                ++pos;
            }
            const std::int64_t magnitude =
                exp_value + static_cast<std::int64_t>(ip.size()) - first_nz;
            if (first_nz >= 0 && magnitude > 0) {
                d = HUGE_VAL;
            } else {
                d = 0.0;
            }
            if (neg) {
                d = -d;
            }
        } else if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
            fail("invalid number");
        }
        return Value(d);
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::size_t max_depth_;
};

// ---------------------------------------------------------------------------------------------
// Writer

void dump_string(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        // Fast path: a run of characters that need no escaping.
        std::size_t start = i;
        while (i < s.size()) {
            const auto b = static_cast<unsigned char>(s[i]);
            if (b < 0x20 || b >= 0x7F || b == '"' || b == '\\') {
                break;
            }
            ++i;
        }
        out.append(s.data() + start, i - start);
        if (i >= s.size()) {
            break;
        }
        const auto b = static_cast<unsigned char>(s[i]);
        switch (b) {
            case '"':
                out.append("\\\"");
                ++i;
                continue;
            case '\\':
                out.append("\\\\");
                ++i;
                continue;
            case '\n':
                out.append("\\n");
                ++i;
                continue;
            case '\r':
                out.append("\\r");
                ++i;
                continue;
            case '\t':
                out.append("\\t");
                ++i;
                continue;
            case '\b':
                out.append("\\b");
                ++i;
                continue;
            case '\f':
                out.append("\\f");
                ++i;
                continue;
            default:
                break;
        }
        std::uint32_t cp = 0;
        std::size_t n = decode_utf8(s, i, cp);
        if (n == 0) {
            // Not UTF-8 (only possible for strings built in code): write U+FFFD per bad byte.
            cp = 0xFFFD;
            n = 1;
        }
        i += n;
        if (cp >= 0x10000) {
            const std::uint32_t v = cp - 0x10000;
            append_u_escape(out, 0xD800 | (v >> 10));
            append_u_escape(out, 0xDC00 | (v & 0x3FF));
        } else {
            append_u_escape(out, cp);
        }
    }
    out.push_back('"');
}

// Shortest round-trip digits of |d| and its scientific exponent (d = 0.DIGITS * 10^(exp+1)).
void shortest_digits(double d, std::string& digits, int& exp10) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
    const std::string_view t(buf, static_cast<std::size_t>(r.ptr - buf));
    const std::size_t e = t.find('e');
    digits.clear();
    for (std::size_t k = 0; k < e; ++k) {
        if (t[k] != '.') {
            digits.push_back(t[k]);
        }
    }
    exp10 = 0;
    std::from_chars(t.data() + e + (t[e + 1] == '+' ? 2 : 1), t.data() + t.size(), exp10);
    // trailing zeros never occur in shortest output except for "0"
}

void dump_float(std::string& out, double d) {
    if (std::isnan(d)) {
        out.append("NaN");
        return;
    }
    if (std::isinf(d)) {
        out.append(d < 0 ? "-Infinity" : "Infinity");
        return;
    }
    out.append(python_float_repr(d));
}

void dump_value(std::string& out, const Value& v, const DumpOptions& opts);

void dump_object(std::string& out, const Object& o, const DumpOptions& opts) {
    if (o.empty()) {
        out.append("{}");
        return;
    }
    out.push_back('{');
    if (opts.sort_keys && o.size() > 1) {
        std::vector<const Object::Entry*> sorted;
        sorted.reserve(o.size());
        for (const auto& e : o) {
            sorted.push_back(&e);
        }
        // UTF-8 (and WTF-8) byte order equals code point order.
        std::sort(sorted.begin(), sorted.end(), [](const Object::Entry* a, const Object::Entry* b) {
            return a->first < b->first;
        });
        bool first = true;
        for (const auto* e : sorted) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            dump_string(out, e->first);
            out.append(": ");
            dump_value(out, e->second, opts);
        }
    } else {
        bool first = true;
        for (const auto& e : o) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            dump_string(out, e.first);
            out.append(": ");
            dump_value(out, e.second, opts);
        }
    }
    out.push_back('}');
}

void dump_value(std::string& out, const Value& v, const DumpOptions& opts) {
    switch (v.type()) {
        case Value::Type::Null:
            out.append("null");
            return;
        case Value::Type::Bool:
            out.append(v.as_bool() ? "true" : "false");
            return;
        case Value::Type::Int: {
            char buf[24];
            auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
            out.append(buf, r.ptr);
            return;
        }
        case Value::Type::BigInt:
            out.append(v.as_bigint().digits);
            return;
        case Value::Type::Float:
            dump_float(out, v.as_float());
            return;
        case Value::Type::String:
            dump_string(out, v.as_string());
            return;
        case Value::Type::Array: {
            const Array& a = v.as_array();
            out.push_back('[');
            bool first = true;
            for (const auto& x : a) {
                if (!first) {
                    out.append(", ");
                }
                first = false;
                dump_value(out, x, opts);
            }
            out.push_back(']');
            return;
        }
        case Value::Type::Object:
            dump_object(out, v.as_object(), opts);
            return;
    }
}

// ---------------------------------------------------------------------------------------------
// python_str / python_equal helpers

void python_repr_string(std::string& out, std::string_view s) {
    // repr() quote choice: single quotes unless the text has ' and no ".
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char q = (has_single && !has_double) ? '"' : '\'';
    out.push_back(q);
    std::size_t i = 0;
    while (i < s.size()) {
        std::uint32_t cp = 0;
        std::size_t n = decode_utf8(s, i, cp);
        if (n == 0) {
            cp = 0xFFFD;
            n = 1;
        }
        if (cp == static_cast<std::uint32_t>(q) || cp == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(cp));
        } else if (cp == '\n') {
            out.append("\\n");
        } else if (cp == '\r') {
            out.append("\\r");
        } else if (cp == '\t') {
            out.append("\\t");
        } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            char buf[5] = {'\\', 'x', kHex[(cp >> 4) & 0xF], kHex[cp & 0xF], 0};
            out.append(buf, 4);
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            char buf[7] = {'\\',
                           'u',
                           kHex[(cp >> 12) & 0xF],
                           kHex[(cp >> 8) & 0xF],
                           kHex[(cp >> 4) & 0xF],
                           kHex[cp & 0xF],
                           0};
            out.append(buf, 6);
        } else {
            // Approximation: other non-ASCII characters are treated as printable.
            out.append(s.data() + i, n);
        }
        i += n;
    }
    out.push_back(q);
}

void python_repr(std::string& out, const Value& v) {
    switch (v.type()) {
        case Value::Type::String:
            python_repr_string(out, v.as_string());
            return;
        case Value::Type::Array: {
            out.push_back('[');
            bool first = true;
            for (const auto& x : v.as_array()) {
                if (!first) {
                    out.append(", ");
                }
                first = false;
                python_repr(out, x);
            }
            out.push_back(']');
            return;
        }
        case Value::Type::Object: {
            out.push_back('{');
            bool first = true;
            for (const auto& e : v.as_object()) {
                if (!first) {
                    out.append(", ");
                }
                first = false;
                python_repr_string(out, e.first);
                out.append(": ");
                python_repr(out, e.second);
            }
            out.push_back('}');
            return;
        }
        default:
            out.append(python_str(v));
            return;
    }
}

// Compares an integer given as canonical decimal text with a double, exactly.
bool int_text_equals_double(const std::string& digits, double d) {
    if (!std::isfinite(d) || std::trunc(d) != d) {
        return false;
    }
    char buf[400];
    const int n = std::snprintf(buf, sizeof buf, "%.0f", d);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) {
        return false;
    }
    std::string_view t(buf, static_cast<std::size_t>(n));
    if (t == "-0") {
        t = "0";
    }
    return t == digits;
}

bool int_equals_double(std::int64_t i, double d) {
    if (!std::isfinite(d) || std::trunc(d) != d) {
        return false;
    }
    // 2^63 is exactly representable; anything at or beyond it is out of int64 range.
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
        return false;
    }
    return static_cast<std::int64_t>(d) == i;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public functions

Value parse(std::string_view text, std::size_t max_depth) { return Parser(text, max_depth).run(); }

std::string dump(const Value& v, DumpOptions opts) {
    std::string out;
    out.reserve(256);
    dump_value(out, v, opts);
    return out;
}

void dump_to(std::string& out, const Value& v, DumpOptions opts) { dump_value(out, v, opts); }

void dump_string_to(std::string& out, std::string_view s) { dump_string(out, s); }

void dump_object_to(std::string& out, const Object& o, DumpOptions opts) {
    dump_object(out, o, opts);
}

std::string python_float_repr(double d) {
    if (std::isnan(d)) {
        return "nan";
    }
    if (std::isinf(d)) {
        return d < 0 ? "-inf" : "inf";
    }
    std::string out;
    if (std::signbit(d)) {
        out.push_back('-');
    }
    if (d == 0.0) {
        out.append("0.0");
        return out;
    }
    std::string digits;
    int exp10 = 0;
    shortest_digits(d, digits, exp10);
    const int ndigits = static_cast<int>(digits.size());
    if (exp10 < -4 || exp10 >= 16) {
        out.push_back(digits[0]);
        if (ndigits > 1) {
            out.push_back('.');
            out.append(digits, 1, std::string::npos);
        }
        out.push_back('e');
        out.push_back(exp10 < 0 ? '-' : '+');
        const int ae = exp10 < 0 ? -exp10 : exp10;
        if (ae < 10) {
            out.push_back('0');
        }
        out.append(std::to_string(ae));
        return out;
    }
    const int decpt = exp10 + 1;  // digits before the decimal point
    if (decpt <= 0) {
        out.append("0.");
        out.append(static_cast<std::size_t>(-decpt), '0');
        out.append(digits);
    } else if (decpt >= ndigits) {
        out.append(digits);
        out.append(static_cast<std::size_t>(decpt - ndigits), '0');
        out.append(".0");
    } else {
        out.append(digits, 0, static_cast<std::size_t>(decpt));
        out.push_back('.');
        out.append(digits, static_cast<std::size_t>(decpt), std::string::npos);
    }
    return out;
}

std::string python_str(const Value& v) {
    switch (v.type()) {
        case Value::Type::Null:
            return "None";
        case Value::Type::Bool:
            return v.as_bool() ? "True" : "False";
        case Value::Type::Int:
            return std::to_string(v.as_int());
        case Value::Type::BigInt:
            return v.as_bigint().digits;
        case Value::Type::Float:
            return python_float_repr(v.as_float());
        case Value::Type::String:
            return v.as_string();
        case Value::Type::Array:
        case Value::Type::Object: {
            std::string out;
            python_repr(out, v);
            return out;
        }
    }
    return {};
}

bool python_equal(const Value& a, const Value& b) {
    using T = Value::Type;
    const T ta = a.type();
    const T tb = b.type();
    const auto numeric = [](T t) {
        return t == T::Bool || t == T::Int || t == T::BigInt || t == T::Float;
    };
    if (numeric(ta) && numeric(tb)) {
        // Normalize bools to ints.
        auto as_i = [](const Value& v, std::int64_t& out) {
            if (v.is_bool()) {
                out = v.as_bool() ? 1 : 0;
                return true;
            }
            if (v.is_int()) {
                out = v.as_int();
                return true;
            }
            return false;
        };
        std::int64_t ia = 0;
        std::int64_t ib = 0;
        const bool a_int = as_i(a, ia);
        const bool b_int = as_i(b, ib);
        if (a_int && b_int) {
            return ia == ib;
        }
        if (ta == T::Float && tb == T::Float) {
            return a.as_float() == b.as_float();
        }
        if (ta == T::BigInt && tb == T::BigInt) {
            return a.as_bigint() == b.as_bigint();
        }
        if (ta == T::Float || tb == T::Float) {
            const Value& f = ta == T::Float ? a : b;
            const Value& o = ta == T::Float ? b : a;
            if (o.is_bigint()) {
                return int_text_equals_double(o.as_bigint().digits, f.as_float());
            }
            std::int64_t io = 0;
            as_i(o, io);
            return int_equals_double(io, f.as_float());
        }
        // BigInt vs int/bool: compare decimal text.
        const Value& big = ta == T::BigInt ? a : b;
        const std::int64_t small = ta == T::BigInt ? ib : ia;
        return big.as_bigint().digits == std::to_string(small);
    }
    if (ta != tb) {
        return false;
    }
    switch (ta) {
        case T::Null:
            return true;
        case T::String:
            return a.as_string() == b.as_string();
        case T::Array: {
            const Array& x = a.as_array();
            const Array& y = b.as_array();
            if (x.size() != y.size()) {
                return false;
            }
            for (std::size_t k = 0; k < x.size(); ++k) {
                if (!python_equal(x[k], y[k])) {
                    return false;
                }
            }
            return true;
        }
        case T::Object: {
            const Object& x = a.as_object();
            const Object& y = b.as_object();
            if (x.size() != y.size()) {
                return false;
            }
            for (const auto& e : x) {
                const Value* other = y.find(e.first);
                if (other == nullptr || !python_equal(e.second, *other)) {
                    return false;
                }
            }
            return true;
        }
        default:
            return false;
    }
}

}  // namespace karton::json
