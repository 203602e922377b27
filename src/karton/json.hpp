// karton/json.hpp — a JSON value with Python `json` module semantics (spec §3).
//
// Why not nlohmann::json for the wire format: karton tasks must round-trip byte for byte with
// Python (arbitrary-size integers, Python float text, NaN/Infinity, lone surrogate escapes,
// insertion-ordered objects, last-wins duplicate keys). nlohmann cannot represent big integers
// or lone surrogates, so the wire format gets this small dedicated value type. Everything else
// in the project (configs, reports, postprocessing) uses nlohmann::json.
//
// Strings are stored as UTF-8; a lone surrogate (\ud800..\udfff not in a pair) is stored in its
// generalized 3-byte form ("WTF-8") so it survives a round trip, as it does in Python.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "util/error.hpp"

namespace karton::json {

// JsonError: text that is not JSON in Python's dialect (message has byte offset and reason).
class JsonError : public util::InputError {
  public:
    using util::InputError::InputError;
};

class Value;

// Array is a JSON array.
using Array = std::vector<Value>;

// Object is an insertion-ordered JSON object (Python dict semantics: unique keys, set()
// replaces the value in place, keeping the original position).
class Object {
  public:
    using Entry = std::pair<std::string, Value>;
    Object() = default;
    Object(std::initializer_list<Entry> init);

    // find returns the value for `key` or nullptr when absent.
    const Value* find(std::string_view key) const;
    Value* find(std::string_view key);
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    // at returns the value for `key`; throws JsonError naming the key when absent.
    const Value& at(std::string_view key) const;
    // set inserts at the end or replaces in place.
    void set(std::string key, Value value);
    // erase removes `key`; returns whether it was present.
    bool erase(std::string_view key);
    // operator[] inserts null at the end when absent.
    Value& operator[](std::string_view key);

    // size/empty/reserve are defined after Value (clang needs it complete to instantiate them).
    std::size_t size() const;
    bool empty() const;
    auto begin() const { return entries_.begin(); }
    auto end() const { return entries_.end(); }
    auto begin() { return entries_.begin(); }
    auto end() { return entries_.end(); }
    const std::vector<Entry>& entries() const { return entries_; }
    // reserve pre-allocates room for `n` entries.
    void reserve(std::size_t n);
    // append_unchecked appends without the duplicate check; the caller guarantees `key` is not
    // present yet (used by the parser and serializers building fresh objects).
    void append_unchecked(std::string key, Value value);
    // clear removes every entry (defined after Value, like size()).
    void clear();

    // Equality ignores entry order (dict semantics); values compare with Value::operator==.
    bool operator==(const Object& o) const;

  private:
    std::vector<Entry> entries_;
};

// BigInt is an integer outside int64 range, kept as its canonical decimal text
// (optional '-', no leading zeros).
struct BigInt {
    std::string digits;
    bool operator==(const BigInt&) const = default;
};

// Value is one JSON value.
class Value {
  public:
    enum class Type { Null, Bool, Int, BigInt, Float, String, Array, Object };

    Value() : v_(nullptr) {}
    Value(std::nullptr_t) : v_(nullptr) {}
    Value(bool b) : v_(b) {}
    Value(int i) : v_(static_cast<std::int64_t>(i)) {}
    Value(long i) : v_(static_cast<std::int64_t>(i)) {}
    Value(long long i) : v_(static_cast<std::int64_t>(i)) {}
    Value(unsigned u) : v_(static_cast<std::int64_t>(u)) {}
    Value(BigInt b) : v_(std::move(b)) {}
    Value(double d) : v_(d) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(Array a) : v_(std::move(a)) {}
    Value(Object o) : v_(std::move(o)) {}

    // The destructor is iterative: a value nested arbitrarily deep (built in memory; parse()
    // caps input at 512 levels) is destroyed without one stack frame per level.
    ~Value();
    Value(const Value&) = default;
    Value(Value&&) noexcept = default;
    Value& operator=(const Value&) = default;
    Value& operator=(Value&&) noexcept = default;

    Type type() const { return static_cast<Type>(v_.index()); }
    bool is_null() const { return type() == Type::Null; }
    bool is_bool() const { return type() == Type::Bool; }
    bool is_int() const { return type() == Type::Int; }
    bool is_bigint() const { return type() == Type::BigInt; }
    bool is_float() const { return type() == Type::Float; }
    // is_number: Int, BigInt or Float (not Bool).
    bool is_number() const { return is_int() || is_bigint() || is_float(); }
    bool is_string() const { return type() == Type::String; }
    bool is_array() const { return type() == Type::Array; }
    bool is_object() const { return type() == Type::Object; }

    // Accessors throw JsonError ("expected <type>, got <type>") on a type mismatch.
    bool as_bool() const;
    std::int64_t as_int() const;
    double as_float() const;  // Int and Float (and Bool) convert; BigInt converts lossy
    const BigInt& as_bigint() const;
    const std::string& as_string() const;
    std::string& as_string();
    const Array& as_array() const;
    Array& as_array();
    const Object& as_object() const;
    Object& as_object();

    // Structural identity: same type and same content (1 != 1.0 here; see python_equal).
    bool operator==(const Value& o) const = default;

  private:
    std::variant<std::nullptr_t, bool, std::int64_t, BigInt, double, std::string, Array, Object> v_;
};

inline std::size_t Object::size() const { return entries_.size(); }
inline bool Object::empty() const { return entries_.empty(); }
inline void Object::reserve(std::size_t n) { entries_.reserve(n); }
inline void Object::clear() { entries_.clear(); }

// type_name returns "null", "bool", "int", "float", "str", "list" or "dict" (Python names).
const char* type_name(Value::Type t);

// parse reads one JSON document in Python's dialect: NaN/Infinity/-Infinity accepted, integers
// of any size (Int when they fit int64, else BigInt), numbers with '.', 'e' or 'E' are Float,
// duplicate keys: last wins (position of the first), lone surrogate escapes kept.
// Trailing whitespace is allowed, anything else after the value is an error. Nesting deeper
// than `max_depth` is rejected (hostile input must not exhaust the stack).
// Throws JsonError.
Value parse(std::string_view text, std::size_t max_depth = 512);

struct DumpOptions {
    // sort_keys orders object keys by Unicode code point at every level (tasks, binds);
    // false keeps insertion order (log records, karton.outputs members).
    bool sort_keys = true;
};

// dump writes Python's json.dumps text: ", " and ": " separators, ASCII-only output with
// lower-case \uXXXX escapes (surrogate pairs above U+FFFF), Python float repr, NaN/Infinity.
std::string dump(const Value& v, DumpOptions opts = {});

// dump_to appends dump(v, opts) to `out` (avoids a temporary when building larger texts).
void dump_to(std::string& out, const Value& v, DumpOptions opts = {});

// dump_object_to appends the text of object `o` to `out` (same rules as dump).
void dump_object_to(std::string& out, const Object& o, DumpOptions opts = {});

// dump_string_to appends the JSON string literal for `s` (json.dumps rules) to `out`.
void dump_string_to(std::string& out, std::string_view s);

// python_float_repr formats a double exactly as Python's repr(float) (spec §3).
std::string python_float_repr(double d);

// python_str returns Python's str() of the value as karton's filters see it (spec §8.2):
// True/False/None, ints in decimal, floats via repr, strings unchanged, lists/dicts as
// Python literal text.
std::string python_str(const Value& v);

// python_equal is Python's == on decoded JSON: numbers (and bools) compare numerically
// (True == 1 == 1.0), strings exactly, lists/dicts deeply; no string/number equality.
bool python_equal(const Value& a, const Value& b);

}  // namespace karton::json
