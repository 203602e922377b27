// postprocess/py_json.hpp — exact re-encoding of JSON the way Python's json.dumps() does with
// default arguments (", " / ": " separators, ensure_ascii \uXXXX escapes, key order kept,
// duplicate keys collapsed last-wins at the first position, ints exact, floats shortest repr).
// Implements spec/drakvuf-output.md §8.1 step 3 and the output format of §8.2–§8.4, §8.9.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace postprocess {

// PyObjectParser parses one JSON text whose top-level value must be an object and re-encodes it
// in Python json.dumps() form. Accepts exactly what Python's json.loads() accepts on a str
// (NaN/Infinity/-Infinity, lone \uD800 escapes, big integers) and additionally requires valid
// strict UTF-8 input (like bytes.decode("utf-8")). Reusable: each parse() resets the state,
// buffers are kept to avoid allocations on the hot path. Not thread-safe.
class PyObjectParser {
  public:
    // One top-level member: both texts are already Python-encoded (key includes its quotes).
    struct Member {
        std::string_view key;
        std::string_view value;
    };

    // parse() returns false when `text` is not valid UTF-8, not valid JSON, nested deeper than
    // kMaxDepth, or not an object. On success encoded()/members() describe the object.
    bool parse(std::string_view text);

    // The whole object, Python-encoded ("{"a": 1, "b": [1, 2]}"), no trailing newline.
    std::string_view encoded() const { return out_; }
    // Top-level members after duplicate collapsing, in Python dict order.
    const std::vector<Member>& members() const { return members_; }
    // Encoded value of top-level key `key` (plain ASCII key name, e.g. "Plugin"), or nullopt.
    std::optional<std::string_view> get(std::string_view key) const;

    static constexpr int kMaxDepth = 512;

  private:
    struct Span {
        size_t key_begin, key_end, value_begin, value_end;
    };
    bool parse_value(int depth);
    bool parse_object(int depth, std::vector<Span>* top);
    bool parse_array(int depth);
    bool parse_string();
    bool parse_number();
    void skip_ws();
    void collapse_duplicates(size_t obj_begin, std::vector<Span>& spans);

    const char* p_ = nullptr;
    const char* end_ = nullptr;
    std::string out_;
    std::vector<Member> members_;
    std::vector<Span> top_spans_;
    std::string scratch_;
};

// Python repr() of a double (shortest round-trip, "1e+16", "-0.0", "inf" is NOT produced:
// json.dumps writes "Infinity"/"-Infinity"/"NaN", which this function returns for those).
std::string py_float_repr(double value);

// Appends `utf8` as a Python json.dumps string literal (with quotes) to `out`. Invalid UTF-8
// sequences are encoded as U+FFFD (our own data only; parsed input is validated before).
void py_append_string(std::string& out, std::string_view utf8);

// Decodes a Python-encoded JSON string literal (as produced by PyObjectParser, quotes
// included) into UTF-8. Lone surrogates become U+FFFD. Returns nullopt if `encoded` is not a
// string literal.
std::optional<std::string> py_decode_string(std::string_view encoded);

// Parses an encoded JSON integer literal into int64; nullopt for non-integers or overflow.
std::optional<int64_t> py_decode_int(std::string_view encoded);

// Serialises `value` exactly as Python json.dumps(value) would (object key order as stored in
// ordered_json). Doubles use py_float_repr. Throws nothing for valid nlohmann values.
std::string py_dumps(const nlohmann::ordered_json& value);
void py_dump_to(std::string& out, const nlohmann::ordered_json& value);

}  // namespace postprocess
