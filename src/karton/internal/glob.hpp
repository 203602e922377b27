// karton/internal/glob.hpp — karton's old-style wildcard filters (spec §8.2): Python
// fnmatch.translate semantics evaluated as an unanchored-start, end-anchored search, on Unicode
// code points, without std::regex (linear-ish matcher, no recursion, hostile-input safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace karton::internal {

// utf8_to_u32 decodes UTF-8 (including the generalized 3-byte surrogate form json.hpp uses for
// lone surrogates) into code points; an invalid byte decodes as itself (U+0080..U+00FF range
// cannot collide in practice because json.hpp only stores valid text).
std::u32string utf8_to_u32(std::string_view s);

// is_glob_pattern: a filter string is a glob when it contains any of ? * [ ] ! (spec §8.2).
bool is_glob_pattern(std::string_view pattern);

// Glob is one compiled fnmatch pattern.
class Glob {
  public:
    // compile translates `pattern` like Python 3.11 fnmatch.translate: * any run, ? one code
    // point (both cross newlines), [..] classes with ranges, [!..] negation, ] first is a
    // member, unclosed [ literal, reversed ranges dropped, every other character literal.
    // Never throws: a class the reference's re module would reject makes matches() throw
    // (deferred_error()).
    static Glob compile(std::string_view pattern);

    // matches is Python's re.search(translate(pattern), value) on a string value: true when the
    // pattern matches some suffix of `value` (spec §8.2 anchoring quirk).
    bool matches(std::string_view value) const;

    // deferred_error is set when the reference raises re.error (a QueryError) at match time.
    const std::optional<std::string>& deferred_error() const { return deferred_error_; }

  private:
    struct Token {
        enum class Kind { Star, Any, Literal, Class, Never };
        Kind kind = Kind::Literal;
        char32_t ch = 0;
        bool negated = false;
        std::vector<std::pair<char32_t, char32_t>> ranges;  // inclusive
        bool accepts(char32_t c) const;
    };
    static Token make_token(Token::Kind k) {
        Token t;
        t.kind = k;
        return t;
    }
    std::vector<Token> tokens_;  // begins with an implicit Star (unanchored start)
    std::optional<std::string> deferred_error_;
};

}  // namespace karton::internal
