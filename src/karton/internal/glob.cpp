// karton/internal/glob.cpp — fnmatch-style globs with karton's suffix-search semantics (§8.2).
#include "karton/internal/glob.hpp"

#include <algorithm>

namespace karton::internal {

std::u32string utf8_to_u32(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        std::size_t len = 1;
        char32_t cp = b0;
        if (b0 >= 0xC0 && b0 < 0xE0) {
            len = 2;
            cp = b0 & 0x1F;
        } else if (b0 >= 0xE0 && b0 < 0xF0) {
            len = 3;
            cp = b0 & 0x0F;
        } else if (b0 >= 0xF0 && b0 < 0xF8) {
            len = 4;
            cp = b0 & 0x07;
        }
        bool ok = len > 1 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0) != 0x80) {
                ok = false;
            } else {
                cp = (cp << 6) | (b & 0x3F);
            }
        }
        if (len > 1 && !ok) {
            // Not valid UTF-8: keep the byte as a code point of its own.
            out.push_back(b0);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += len;
    }
    return out;
}

bool is_glob_pattern(std::string_view pattern) {
    return pattern.find_first_of("?*[]!") != std::string_view::npos;
}

bool Glob::Token::accepts(char32_t c) const {
    switch (kind) {
        case Kind::Any:
            return true;
        case Kind::Literal:
            return c == ch;
        case Kind::Class: {
            const bool in = std::any_of(ranges.begin(), ranges.end(), [c](const auto& r) {
                return r.first <= c && c <= r.second;
            });
            return in != negated;
        }
        case Kind::Star:
        case Kind::Never:
            return false;
    }
    return false;
}

namespace {

// parse_class_body interprets the regex class text that fnmatch.translate produced (escapes are
// always "\x" = literal x) the way Python's sre_parse does; returns false on a reversed range
// (re.error "bad character range").
bool parse_class_body(const std::u32string& body, std::vector<std::pair<char32_t, char32_t>>& out) {
    std::size_t i = 0;
    const auto next_char = [&](char32_t& c) {
        if (body[i] == U'\\' && i + 1 < body.size()) {
            c = body[i + 1];
            i += 2;
        } else {
            c = body[i];
            i += 1;
        }
    };
    while (i < body.size()) {
        char32_t lo = 0;
        next_char(lo);
        if (i < body.size() && body[i] == U'-') {
            ++i;
            if (i >= body.size()) {
                // "x-" at the end of the set: both literal.
                out.emplace_back(lo, lo);
                out.emplace_back(U'-', U'-');
                break;
            }
            char32_t hi = 0;
            next_char(hi);
            if (hi < lo) {
                return false;
            }
            out.emplace_back(lo, hi);
        } else {
            out.emplace_back(lo, lo);
        }
    }
    return true;
}

std::u32string escape_chunk(const std::u32string& s, bool escape_hyphen) {
    std::u32string out;
    for (char32_t c : s) {
        if (c == U'\\' || (escape_hyphen && c == U'-')) {
            out.push_back(U'\\');
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace

Glob Glob::compile(std::string_view pattern_utf8) {
    Glob g;
    const std::u32string pat = utf8_to_u32(pattern_utf8);
    const std::size_t n = pat.size();
    g.tokens_.push_back(make_token(Token::Kind::Star));
    std::size_t i = 0;
    while (i < n) {
        const char32_t c = pat[i++];
        if (c == U'*') {
            if (g.tokens_.back().kind != Token::Kind::Star) {
                g.tokens_.push_back(make_token(Token::Kind::Star));
            }
        } else if (c == U'?') {
            g.tokens_.push_back(make_token(Token::Kind::Any));
        } else if (c == U'[') {
            std::size_t j = i;
            if (j < n && pat[j] == U'!') {
                ++j;
            }
            if (j < n && pat[j] == U']') {
                ++j;
            }
            while (j < n && pat[j] != U']') {
                ++j;
            }
            if (j >= n) {
                Token t;
                t.ch = U'[';
                g.tokens_.push_back(t);
                continue;
            }
            std::u32string stuff;
            const std::u32string raw = pat.substr(i, j - i);
            if (raw.find(U'-') == std::u32string::npos) {
                stuff = escape_chunk(raw, false);
            } else {
                // Compat: fnmatch.translate's chunking of ranges, including the removal of
                // reversed ranges ("[z-a]" never matches, "[xz-a]" is "[x]").
                std::vector<std::u32string> chunks;
                std::size_t start = i;
                std::size_t k = pat[i] == U'!' ? i + 2 : i + 1;
                while (true) {
                    std::size_t found = std::u32string::npos;
                    for (std::size_t q = k; q < j; ++q) {
                        if (pat[q] == U'-') {
                            found = q;
                            break;
                        }
                    }
                    if (found == std::u32string::npos) {
                        break;
                    }
                    chunks.push_back(pat.substr(start, found - start));
                    start = found + 1;
                    k = found + 3;
                }
                std::u32string last = pat.substr(start, j - start);
                if (!last.empty()) {
                    chunks.push_back(last);
                } else if (!chunks.empty()) {
                    chunks.back().push_back(U'-');
                }
                for (std::size_t q = chunks.size(); q-- > 1;) {
                    if (!chunks[q - 1].empty() && !chunks[q].empty() &&
                        chunks[q - 1].back() > chunks[q].front()) {
                        chunks[q - 1] =
                            chunks[q - 1].substr(0, chunks[q - 1].size() - 1) + chunks[q].substr(1);
                        chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(q));
                    }
                }
                for (std::size_t q = 0; q < chunks.size(); ++q) {
                    if (q > 0) {
                        stuff.push_back(U'-');
                    }
                    stuff += escape_chunk(chunks[q], true);
                }
            }
            // Set operations are escaped by translate (literal & ~ |).
            std::u32string escaped;
            for (char32_t sc : stuff) {
                if (sc == U'&' || sc == U'~' || sc == U'|') {
                    escaped.push_back(U'\\');
                }
                escaped.push_back(sc);
            }
            stuff = escaped;
            i = j + 1;
            Token t;
            if (stuff.empty()) {
                t.kind = Token::Kind::Never;
            } else if (stuff == U"!") {
                t.kind = Token::Kind::Any;
            } else {
                t.kind = Token::Kind::Class;
                if (stuff[0] == U'!') {
                    t.negated = true;
                    stuff.erase(0, 1);
                } else if (stuff[0] == U'^' || stuff[0] == U'[') {
                    stuff.insert(stuff.begin(), U'\\');
                }
                if (!parse_class_body(stuff, t.ranges)) {
                    g.deferred_error_ =
                        std::string(pattern_utf8) +
                        " failed to execute with error error('bad character range')";
                }
            }
            g.tokens_.push_back(std::move(t));
        } else {
            Token t;
            t.ch = c;
            g.tokens_.push_back(t);
        }
    }
    return g;
}

bool Glob::matches(std::string_view value_utf8) const {
    const std::u32string s = utf8_to_u32(value_utf8);
    const std::size_t n = s.size();
    const std::size_t m = tokens_.size();
    std::size_t si = 0;
    std::size_t pi = 0;
    std::size_t star_pi = m;  // m = no star seen
    std::size_t star_si = 0;
    while (si < n) {
        if (pi < m && tokens_[pi].kind == Token::Kind::Star) {
            star_pi = pi++;
            star_si = si;
            continue;
        }
        if (pi < m && tokens_[pi].accepts(s[si])) {
            ++pi;
            ++si;
            continue;
        }
        if (star_pi != m) {
            pi = star_pi + 1;
            si = ++star_si;
            continue;
        }
        return false;
    }
    while (pi < m && tokens_[pi].kind == Token::Kind::Star) {
        ++pi;
    }
    return pi == m;
}

}  // namespace karton::internal
