// karton/internal/query.hpp — the MongoDB-like query evaluator behind karton filters
// (spec §8.3, reference karton.core.query.Query with type coercion) and a Python `re` to
// ECMAScript translator for `$regex`. Private to karton::Filter.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "karton/json.hpp"

namespace karton::internal {

// PyRegex is a `$regex` operand compiled once: "pattern" or "/pattern/flags" (flags from imsx),
// Python re syntax translated to std::wregex ECMAScript over code points.
// Supported: classes, groups, (?:) (?=) (?!) (?P<n>) (?P=n) (?#), leading (?imsx), \A \Z $ .
// with Python semantics, {m,n}/{,n}, escapes \d\w\s\b \xhh \uhhhh \Uhhhhhhhh octal.
// Gaps (reported as an invalid pattern, i.e. QueryError): lookbehind, scoped flags (?i:...),
// atomic groups, possessive quantifiers, \N{...}, \A under MULTILINE, patterns over kMaxPattern
// code points; \d is ASCII-only, \w \s IGNORECASE follow glibc C.UTF-8;
// `^` under MULTILINE also matches after \r; repeat counts over 1000 and patterns expanding to
// over 20000 NFA states are refused.
class PyRegex {
  public:
    // compile never throws; an invalid/unsupported pattern sets error() (a QueryError message).
    static PyRegex compile(const std::string& operand);
    // search is re.search(pattern, value) != None; throws QueryError when error() is set, or
    // when a pattern with back-references (backtracking engine, recursive per character) meets
    // a subject longer than kMaxSubject code points. Other patterns run on libstdc++'s
    // polynomial (Thompson NFA) executor with no length limit.
    bool search(std::string_view value) const;
    const std::optional<std::string>& error() const { return error_; }

    static constexpr std::size_t kMaxSubject = 2048;
    // kMaxPattern bounds the pattern length (the std::regex compiler recurses on nesting).
    static constexpr std::size_t kMaxPattern = 2048;

  private:
    std::shared_ptr<const std::wregex> re_;  // shared by copies of this immutable object
    std::optional<std::string> error_;
    std::string operand_;
    bool backtracking_ = false;
};

// QueryEngine evaluates query conditions taken from one filter JSON tree. Construct it with the
// tree (it precompiles every `$regex` string inside); the tree must outlive the engine and stay
// unmodified (conditions are looked up by address).
class QueryEngine {
  public:
    explicit QueryEngine(const json::Value& tree);

    // condition is P(key, cond, headers) of spec §8.3 (one rule entry against the headers).
    // Throws QueryError or FilterError exactly where the reference raises.
    bool condition(std::string_view key, const json::Value& cond,
                   const json::Object& headers) const;

    // extract_string resolves a (dotted) header path the way the reference does and returns the
    // string found there, or nullopt when the value is missing or not a string.
    std::optional<std::string_view> extract_string(std::string_view key,
                                                   const json::Object& headers) const;

  private:
    void collect_regexes(const json::Value& v);
    std::unordered_map<const json::Value*, PyRegex> regexes_;

    friend struct Evaluator;
    const PyRegex& regex_for(const json::Value& operand, PyRegex& scratch) const;
};

}  // namespace karton::internal
