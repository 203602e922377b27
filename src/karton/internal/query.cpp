// karton/internal/query.cpp — the reference query evaluator (spec §8.3) and the $regex
// translator. Each function names the reference behaviour it reproduces.
#include "karton/internal/query.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <locale>

#include "karton/filter.hpp"
#include "karton/internal/glob.hpp"

namespace karton::internal {

static_assert(sizeof(wchar_t) == 4, "PyRegex needs a 32-bit wchar_t");

__extension__ typedef __int128 i128;  // exact big-integer modulo by an int64 divisor

namespace {

using json::Value;
using T = json::Value::Type;

std::string u32_to_utf8(char32_t cp) {
    std::string out;
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
    return out;
}

// ---------------------------------------------------------------------------------------------
// Python re -> ECMAScript translation

class RegexTranslator {
  public:
    RegexTranslator(std::u32string pat, bool verbose) : p_(std::move(pat)), verbose_(verbose) {}

    // Returns the ECMAScript pattern or throws std::string (the re.error text).
    std::wstring run(bool& icase, bool& multiline, bool& dotall) {
        icase_ = &icase;
        multiline_ = &multiline;
        dotall_ = &dotall;
        leading_flags();
        while (i_ < p_.size()) {
            atom();
        }
        if (depth_ != 0) {
            fail("missing ), unterminated subpattern");
        }
        return out_;
    }

  private:
    [[noreturn]] static void fail(const std::string& what) { throw what; }

    void leading_flags() {
        // Python 3.11: global inline flags are only allowed at the start.
        while (i_ + 2 < p_.size() && p_[i_] == U'(' && p_[i_ + 1] == U'?') {
            std::size_t j = i_ + 2;
            std::string letters;
            while (j < p_.size() &&
                   std::u32string_view(U"aiLmsux").find(p_[j]) != std::u32string_view::npos) {
                letters.push_back(static_cast<char>(p_[j]));
                ++j;
            }
            if (letters.empty() || j >= p_.size() || p_[j] != U')') {
                return;
            }
            for (char c : letters) {
                if (c == 'i') {
                    *icase_ = true;
                } else if (c == 'm') {
                    *multiline_ = true;
                } else if (c == 's') {
                    *dotall_ = true;
                } else if (c == 'x') {
                    verbose_ = true;
                } else if (c == 'L') {
                    fail("bad inline flags: cannot use 'L' flag with a str pattern");
                }
            }
            i_ = j + 1;
        }
    }

    void emit_literal(char32_t c) {
        if (c < 0x80 && std::string_view("^$\\.*+?()[]{}|/-").find(static_cast<char>(c)) !=
                            std::string_view::npos) {
            out_.push_back(L'\\');
            out_.push_back(static_cast<wchar_t>(c));
        } else if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
            wchar_t buf[8];
            std::swprintf(buf, 8, L"\\x%02x", static_cast<unsigned>(c));
            out_ += buf;
        } else {
            out_.push_back(static_cast<wchar_t>(c));
        }
    }

    bool is_hex(char32_t c) const {
        return (c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'f') || (c >= U'A' && c <= U'F');
    }

    char32_t read_hex(std::size_t n) {
        if (i_ + n > p_.size()) {
            fail("incomplete escape");
        }
        char32_t v = 0;
        for (std::size_t k = 0; k < n; ++k) {
            const char32_t c = p_[i_ + k];
            if (!is_hex(c)) {
                fail("incomplete escape");
            }
            v = v * 16 + static_cast<char32_t>(c <= U'9' ? c - U'0' : (c | 0x20) - U'a' + 10);
        }
        i_ += n;
        if (v > 0x10FFFF) {
            fail("bad escape");
        }
        return v;
    }

    // escape handles "\x" (i_ points after the backslash); in_class selects class meanings.
    // Returns a literal code point via `lit` (true) or emits a class/anchor itself (false).
    bool escape(bool in_class, char32_t& lit) {
        if (i_ >= p_.size()) {
            fail("bad escape (end of pattern)");
        }
        const char32_t c = p_[i_++];
        switch (c) {
            case U'd':
            case U'D':
            case U's':
            case U'S':
            case U'w':
            case U'W':
                out_.push_back(L'\\');
                out_.push_back(static_cast<wchar_t>(c));
                return false;
            case U'n':
                lit = U'\n';
                return true;
            case U't':
                lit = U'\t';
                return true;
            case U'r':
                lit = U'\r';
                return true;
            case U'f':
                lit = U'\f';
                return true;
            case U'v':
                lit = U'\v';
                return true;
            case U'a':
                lit = 7;
                return true;
            case U'x':
                lit = read_hex(2);
                return true;
            case U'u':
                lit = read_hex(4);
                return true;
            case U'U':
                lit = read_hex(8);
                return true;
            case U'b':
                if (in_class) {
                    lit = 8;
                    return true;
                }
                out_ += L"\\b";
                return false;
            case U'B':
                if (in_class) {
                    fail("bad escape \\B");
                }
                out_ += L"\\B";
                return false;
            case U'A':
                if (in_class) {
                    fail("bad escape \\A");
                }
                if (*multiline_) {
                    fail("unsupported: \\A with MULTILINE");
                }
                out_ += L"^";
                return false;
            case U'Z':
                if (in_class) {
                    fail("bad escape \\Z");
                }
                out_ += L"(?![\\s\\S])";
                return false;
            default:
                break;
        }
        if (c >= U'0' && c <= U'7' && (c == U'0' || in_class)) {
            // Octal escape: up to 3 digits.
            char32_t v = c - U'0';
            for (int k = 0; k < 2 && i_ < p_.size() && p_[i_] >= U'0' && p_[i_] <= U'7'; ++k) {
                v = v * 8 + (p_[i_++] - U'0');
            }
            lit = v;
            return true;
        }
        if (c >= U'1' && c <= U'9') {
            // Three octal digits are an octal escape, otherwise a group reference.
            if (i_ + 1 < p_.size() && c <= U'7' && p_[i_] >= U'0' && p_[i_] <= U'7' &&
                p_[i_ + 1] >= U'0' && p_[i_ + 1] <= U'7') {
                lit = (c - U'0') * 64 + (p_[i_] - U'0') * 8 + (p_[i_ + 1] - U'0');
                i_ += 2;
                return true;
            }
            unsigned group = c - U'0';
            if (i_ < p_.size() && p_[i_] >= U'0' && p_[i_] <= U'9') {
                group = group * 10 + (p_[i_++] - U'0');
            }
            if (group > groups_) {
                fail("invalid group reference " + std::to_string(group));
            }
            out_ += L"\\" + std::to_wstring(group);
            return false;
        }
        if (c < 0x80 && ((c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'))) {
            fail(std::string("bad escape \\") + static_cast<char>(c));
        }
        lit = c;
        return true;
    }

    void skip_verbose() {
        const std::size_t before = i_;
        skip_verbose_chars();
        if (i_ != before) {
            lazy_taken_ = true;  // a lazy '?' must follow its repeat directly
        }
    }

    void skip_verbose_chars() {
        while (verbose_ && i_ < p_.size()) {
            const char32_t c = p_[i_];
            if (c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == U'\v' || c == U'\f') {
                ++i_;
            } else if (c == U'#') {
                while (i_ < p_.size() && p_[i_] != U'\n') {
                    ++i_;
                }
            } else {
                break;
            }
        }
    }

    struct Brace {
        std::wstring text;  // ECMAScript form, "{,n}" rewritten "{0,n}"
        unsigned long min = 0;
        unsigned long max = 0;  // 0 with unbounded = true
        bool unbounded = false;
        std::size_t end = 0;  // index after '}'
    };

    // parse_brace reads {m}, {m,}, {,n}, {m,n} at i_ (pointing at '{'); nullopt = literal '{'.
    std::optional<Brace> parse_brace() const {
        std::size_t j = i_ + 1;
        std::wstring lo;
        std::wstring hi;
        while (j < p_.size() && p_[j] >= U'0' && p_[j] <= U'9') {
            lo.push_back(static_cast<wchar_t>(p_[j++]));
        }
        bool comma = false;
        if (j < p_.size() && p_[j] == U',') {
            comma = true;
            ++j;
            while (j < p_.size() && p_[j] >= U'0' && p_[j] <= U'9') {
                hi.push_back(static_cast<wchar_t>(p_[j++]));
            }
        }
        if (j >= p_.size() || p_[j] != U'}' || (lo.empty() && !comma)) {
            return std::nullopt;
        }
        if (lo.size() > 6 || hi.size() > 6) {
            fail("unsupported: repeat count over " + std::to_string(kMaxRepeat));
        }
        Brace b;
        b.min = lo.empty() ? 0 : std::wcstoul(lo.c_str(), nullptr, 10);
        b.unbounded = comma && hi.empty();
        b.max = comma ? (hi.empty() ? 0 : std::wcstoul(hi.c_str(), nullptr, 10)) : b.min;
        if (!b.unbounded && b.max < b.min) {
            fail("min repeat greater than max repeat");
        }
        if (b.min > kMaxRepeat || b.max > kMaxRepeat) {
            fail("unsupported: repeat count over " + std::to_string(kMaxRepeat));
        }
        b.text = L"{" + (lo.empty() ? std::wstring(L"0") : lo) + (comma ? L"," : L"") + hi + L"}";
        b.end = j + 1;
        return b;
    }

    // quantifier applies a repeat to the previous item with Python's rules: nothing to repeat
    // after an anchor/start/'|'/'(', "multiple repeat" after a repeat except one lazy '?'.
    void quantifier(std::wstring text, unsigned long min, unsigned long factor) {
        if (last_ == Last::Nothing) {
            fail("nothing to repeat");
        }
        if (last_ == Last::Repeat) {
            if (text == L"?" && !lazy_taken_) {
                if (!repeat_dropped_) {
                    out_ += L"?";
                }
                lazy_taken_ = true;
                return;
            }
            if (text == L"+" && !lazy_taken_) {
                fail("unsupported: possessive quantifier");
            }
            fail("multiple repeat");
        }
        if (atom_lookaround_) {
            // ECMAScript cannot repeat an assertion; Python can: a zero-width item repeated at
            // least once is the item, optional repetition matches the empty string.
            if (min == 0) {
                out_.erase(atom_start_);
            }
            repeat_dropped_ = true;
        } else {
            repeat_dropped_ = false;
            out_ += text;
            weight_add(atom_weight_ * (factor > 0 ? factor - 1 : 0));
        }
        last_ = Last::Repeat;
        lazy_taken_ = false;
    }

    void weight_add(std::size_t w) {
        weights_.back() += w;
        if (weights_.back() > kMaxWeight) {
            fail("unsupported: pattern expands to too many states");
        }
    }

    // begin_atom / end_atom bracket the emission of one repeatable item.
    void atom_at(std::size_t start, bool lookaround = false, std::size_t weight = 1) {
        last_ = Last::Atom;
        atom_start_ = start;
        atom_lookaround_ = lookaround;
        atom_weight_ = weight;
        weight_add(weight);
    }

    void char_class() {
        // i_ points after '['.
        out_.push_back(L'[');
        if (i_ < p_.size() && p_[i_] == U'^') {
            out_.push_back(L'^');
            ++i_;
        }
        bool first = true;
        while (true) {
            if (i_ >= p_.size()) {
                fail("unterminated character set");
            }
            const char32_t c = p_[i_];
            if (c == U']' && !first) {
                ++i_;
                break;
            }
            first = false;
            ++i_;
            char32_t lit = 0;
            bool is_lit = true;
            if (c == U'\\') {
                is_lit = escape(true, lit);
            } else {
                lit = c;
            }
            if (!is_lit) {
                if (i_ + 1 < p_.size() && p_[i_] == U'-' && p_[i_ + 1] != U']') {
                    fail("bad character range");
                }
                continue;
            }
            if (i_ + 1 < p_.size() && p_[i_] == U'-' && p_[i_ + 1] != U']') {
                ++i_;
                char32_t hi = p_[i_++];
                if (hi == U'\\') {
                    if (!escape(true, hi)) {
                        fail("bad character range");
                    }
                }
                if (hi < lit) {
                    fail("bad character range");
                }
                emit_literal(lit);
                out_.push_back(L'-');
                emit_literal(hi);
            } else {
                emit_literal(lit);
            }
        }
        out_.push_back(L']');
    }

    void group_open() {
        // i_ points after '('.
        if (i_ < p_.size() && p_[i_] == U'?') {
            const std::u32string rest = p_.substr(i_ + 1, 2);
            if (!rest.empty() && (rest[0] == U':' || rest[0] == U'=' || rest[0] == U'!')) {
                groups_open_.push_back({out_.size(), rest[0] != U':'});
                weights_.push_back(0);
                out_ += L"(?";
                out_.push_back(static_cast<wchar_t>(rest[0]));
                i_ += 2;
                depth_++;
                last_ = Last::Nothing;
                return;
            }
            if (!rest.empty() && rest[0] == U'#') {
                lazy_taken_ = true;  // a lazy '?' must follow its repeat directly
                while (i_ < p_.size() && p_[i_] != U')') {
                    ++i_;
                }
                if (i_ >= p_.size()) {
                    fail("missing ), unterminated comment");
                }
                ++i_;
                return;
            }
            if (rest.size() == 2 && rest[0] == U'P' && rest[1] == U'<') {
                std::size_t j = i_ + 3;
                std::u32string name;
                while (j < p_.size() && p_[j] != U'>') {
                    name.push_back(p_[j++]);
                }
                if (j >= p_.size() || name.empty()) {
                    fail("missing group name");
                }
                for (const auto& existing : names_) {
                    if (existing.first == name) {
                        fail("redefinition of group name");
                    }
                }
                names_.emplace_back(name, ++groups_);
                groups_open_.push_back({out_.size(), false});
                weights_.push_back(0);
                out_.push_back(L'(');
                i_ = j + 1;
                depth_++;
                last_ = Last::Nothing;
                return;
            }
            if (rest.size() == 2 && rest[0] == U'P' && rest[1] == U'=') {
                std::size_t j = i_ + 3;
                std::u32string name;
                while (j < p_.size() && p_[j] != U')') {
                    name.push_back(p_[j++]);
                }
                if (j >= p_.size()) {
                    fail("missing ), unterminated name");
                }
                for (const auto& [n, g] : names_) {
                    if (n == name) {
                        atom_at(out_.size());
                        out_ += L"(?:\\" + std::to_wstring(g) + L")";
                        i_ = j + 1;
                        return;
                    }
                }
                fail("unknown group name");
            }
            fail("unsupported group extension");
        }
        ++groups_;
        depth_++;
        groups_open_.push_back({out_.size(), false});
        weights_.push_back(0);
        out_.push_back(L'(');
        last_ = Last::Nothing;
    }

    void atom() {
        skip_verbose();
        if (i_ >= p_.size()) {
            return;
        }
        const std::size_t start = out_.size();
        const char32_t c = p_[i_++];
        switch (c) {
            case U'\\': {
                const bool anchor = i_ < p_.size() && std::u32string_view(U"bBAZ").find(p_[i_]) !=
                                                          std::u32string_view::npos;
                char32_t lit = 0;
                if (escape(false, lit)) {
                    emit_literal(lit);
                }
                if (anchor) {
                    last_ = Last::Nothing;
                } else {
                    atom_at(start);
                }
                return;
            }
            case U'.':
                out_ += *dotall_ ? L"[\\s\\S]" : L"[^\\n]";
                atom_at(start);
                return;
            case U'^':
                out_.push_back(L'^');
                last_ = Last::Nothing;
                return;
            case U'$':
                out_ += *multiline_ ? L"(?=\\n|(?![\\s\\S]))" : L"(?=\\n?(?![\\s\\S]))";
                last_ = Last::Nothing;
                return;
            case U'[':
                char_class();
                atom_at(start);
                return;
            case U'(':
                group_open();
                return;
            case U')': {
                if (depth_ == 0 || groups_open_.empty()) {
                    fail("unbalanced parenthesis");
                }
                depth_--;
                out_.push_back(L')');
                const auto [open_at, lookaround] = groups_open_.back();
                groups_open_.pop_back();
                const std::size_t inner = weights_.back();
                weights_.pop_back();
                atom_at(open_at, lookaround, inner + 1);
                return;
            }
            case U'{': {
                --i_;
                if (const auto b = parse_brace()) {
                    i_ = b->end;
                    quantifier(b->text, b->min, (b->unbounded ? b->min : b->max) + 1);
                } else {
                    ++i_;
                    out_ += L"\\{";
                    atom_at(start);
                }
                return;
            }
            case U'*':
                quantifier(L"*", 0, 1);
                return;
            case U'+':
                quantifier(L"+", 1, 1);
                return;
            case U'?':
                quantifier(L"?", 0, 1);
                return;
            case U'|':
                out_.push_back(L'|');
                last_ = Last::Nothing;
                return;
            default:
                emit_literal(c);
                atom_at(start);
                return;
        }
    }

    static constexpr unsigned long kMaxRepeat = 1000;
    static constexpr std::size_t kMaxWeight = 20000;
    enum class Last { Nothing, Atom, Repeat };
    Last last_ = Last::Nothing;
    std::size_t atom_start_ = 0;
    bool atom_lookaround_ = false;
    std::size_t atom_weight_ = 1;
    bool lazy_taken_ = false;
    bool repeat_dropped_ = false;
    std::vector<std::pair<std::size_t, bool>> groups_open_;
    std::vector<std::size_t> weights_{0};
    std::u32string p_;
    bool verbose_;
    std::size_t i_ = 0;
    unsigned groups_ = 0;
    unsigned depth_ = 0;
    std::vector<std::pair<std::u32string, unsigned>> names_;
    std::wstring out_;
    bool* icase_ = nullptr;
    bool* multiline_ = nullptr;
    bool* dotall_ = nullptr;
};

// unicode_locale gives \\w \\s and IGNORECASE Unicode meaning (glibc's C.UTF-8 tables), as
// Python's str patterns have; falls back to the classic locale (ASCII) when unavailable.
const std::locale& unicode_locale() {
    static const std::locale loc = [] {
        try {
            return std::locale("C.UTF-8");
        } catch (const std::runtime_error&) {
            return std::locale::classic();
        }
    }();
    return loc;
}

std::shared_ptr<const std::wregex> make_wregex(const std::wstring& pattern,
                                               std::regex_constants::syntax_option_type flags) {
    auto re = std::make_shared<std::wregex>();
    re->imbue(unicode_locale());
    re->assign(pattern, flags);
    return re;
}

std::wstring to_wide(std::string_view s) {
    const std::u32string u = utf8_to_u32(s);
    return std::wstring(u.begin(), u.end());
}

}  // namespace

PyRegex PyRegex::compile(const std::string& operand) {
    PyRegex r;
    r.operand_ = operand;
    // "/pattern/flags": the last '/' followed by at most four of imsx, pattern non-empty.
    std::string pattern = operand;
    std::string flags;
    const std::size_t last = operand.rfind('/');
    if (operand.size() >= 3 && operand[0] == '/' && last != std::string::npos && last >= 2) {
        const std::string tail = operand.substr(last + 1);
        if (tail.size() <= 4 && tail.find_first_not_of("imsx") == std::string::npos) {
            pattern = operand.substr(1, last - 1);
            flags = tail;
        }
    }
    bool icase = flags.find('i') != std::string::npos;
    bool multiline = flags.find('m') != std::string::npos;
    bool dotall = flags.find('s') != std::string::npos;
    const bool verbose = flags.find('x') != std::string::npos;
    if (utf8_to_u32(pattern).size() > kMaxPattern) {
        // The std::regex compiler is recursive descent: bound its depth.
        r.error_ = operand.substr(0, 64) +
                   "... failed to execute with error error('pattern longer than " +
                   std::to_string(kMaxPattern) + " characters')";
        return r;
    }
    try {
        RegexTranslator tr(utf8_to_u32(pattern), verbose);
        const std::wstring ecma = tr.run(icase, multiline, dotall);
        auto syntax = std::regex_constants::ECMAScript;
        if (icase) {
            syntax |= std::regex_constants::icase;
        }
        if (multiline) {
            syntax |= std::regex_constants::multiline;
        }
        try {
            // Thompson-NFA executor: no recursion per subject character. Searching is one
            // anchored pass over "[\s\S]*?(?:pattern)": regex_search would restart the NFA at
            // every position (quadratic).
            r.re_ = make_wregex(L"[\\s\\S]*?(?:" + ecma + L")",
                                syntax | std::regex_constants::__polynomial);
        } catch (const std::regex_error& e) {
            if (e.code() != std::regex_constants::error_complexity) {
                throw;
            }
            // Back-references need the backtracking executor (recursive per character).
            r.re_ = make_wregex(ecma, syntax);
            r.backtracking_ = true;
        }
    } catch (const std::string& why) {
        r.error_ = operand + " failed to execute with error error('" + why + "')";
    } catch (const std::regex_error& e) {
        r.error_ = operand + " failed to execute with error error('" + e.what() + "')";
    }
    return r;
}

bool PyRegex::search(std::string_view value) const {
    if (error_) {
        throw QueryError(*error_);
    }
    const std::wstring w = to_wide(value);
    if (backtracking_ && w.size() > kMaxSubject) {
        // libstdc++'s executor recurses per character; refuse instead of overflowing the stack.
        throw QueryError(operand_ + " failed to execute with error error('subject longer than " +
                         std::to_string(kMaxSubject) + " characters')");
    }
    try {
        if (backtracking_) {
            return std::regex_search(w, *re_);
        }
        return std::regex_search(w, *re_, std::regex_constants::match_continuous);
    } catch (const std::regex_error& e) {
        throw QueryError(operand_ + " failed to execute with error error('" + e.what() + "')");
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluated values

namespace {

// Ev is a value as the reference sees it during evaluation: missing (_Undefined), a JSON value
// (borrowed, or owned for characters taken out of strings), the headers dict itself, or a list
// built by mapping a path over an array (which may hold missing elements).
struct Ev {
    enum class Kind { Missing, Value, Root, List };
    Kind kind = Kind::Missing;
    const json::Value* value = nullptr;
    const json::Object* root = nullptr;
    std::shared_ptr<const json::Value> owned;  // shared by copies of this Ev (string chars)
    std::vector<Ev> list;

    static Ev missing() { return Ev{}; }
    static Ev of(const json::Value& v) {
        Ev e;
        e.kind = Kind::Value;
        e.value = &v;
        return e;
    }
    static Ev own(json::Value v) {
        Ev e;
        e.kind = Kind::Value;
        e.owned = std::make_shared<const json::Value>(std::move(v));
        e.value = e.owned.get();
        return e;
    }

    bool is_missing() const { return kind == Kind::Missing; }
    bool is_value(T t) const { return kind == Kind::Value && value->type() == t; }
    bool is_string() const { return is_value(T::String); }
    bool is_object() const { return kind == Kind::Root || is_value(T::Object); }
    const json::Object& object() const { return kind == Kind::Root ? *root : value->as_object(); }
    // Python: isinstance(x, Sequence) and not str.
    bool is_list() const { return kind == Kind::List || is_value(T::Array); }
    std::size_t list_size() const {
        return kind == Kind::List ? list.size() : value->as_array().size();
    }
    Ev element(std::size_t i) const {
        return kind == Kind::List ? list[i] : Ev::of(value->as_array()[i]);
    }
};

const char* py_type(const Ev& e) {
    switch (e.kind) {
        case Ev::Kind::Missing:
            return "_Undefined";
        case Ev::Kind::Root:
            return "dict";
        case Ev::Kind::List:
            return "list";
        case Ev::Kind::Value:
            break;
    }
    if (e.value->is_null()) {
        return "NoneType";
    }
    return json::type_name(e.value->type());
}

const char* py_type(const json::Value& v) {
    return v.is_null() ? "NoneType" : json::type_name(v.type());
}

bool truthy(const json::Value& v) {
    switch (v.type()) {
        case T::Null:
            return false;
        case T::Bool:
            return v.as_bool();
        case T::Int:
            return v.as_int() != 0;
        case T::BigInt:
            return true;
        case T::Float:
            return v.as_float() != 0.0;
        case T::String:
            return !v.as_string().empty();
        case T::Array:
            return !v.as_array().empty();
        case T::Object:
            return !v.as_object().empty();
    }
    return false;
}

// materialize turns an Ev into a JSON value for the rare paths that need Python's str() or
// equality of a whole dict/list; nullopt when it holds a missing (_Undefined) element, whose
// repr contains a memory address and therefore never equals anything.
std::optional<json::Value> materialize(const Ev& e) {
    switch (e.kind) {
        case Ev::Kind::Missing:
            return std::nullopt;
        case Ev::Kind::Value:
            return *e.value;
        case Ev::Kind::Root:
            return json::Value(*e.root);
        case Ev::Kind::List: {
            json::Array out;
            for (const Ev& x : e.list) {
                auto v = materialize(x);
                if (!v) {
                    return std::nullopt;
                }
                out.push_back(std::move(*v));
            }
            return json::Value(std::move(out));
        }
    }
    return std::nullopt;
}

// py_equal is Python `cond == entry`.
bool py_equal(const json::Value& cond, const Ev& e) {
    if (e.kind == Ev::Kind::Value) {
        return json::python_equal(cond, *e.value);
    }
    if (e.kind == Ev::Kind::Missing) {
        return false;
    }
    if (e.kind == Ev::Kind::List) {
        if (!cond.is_array() || cond.as_array().size() != e.list.size()) {
            return false;
        }
        for (std::size_t i = 0; i < e.list.size(); ++i) {
            if (!py_equal(cond.as_array()[i], e.list[i])) {
                return false;
            }
        }
        return true;
    }
    const auto m = materialize(e);
    return m && json::python_equal(cond, *m);
}

// py_in is Python `cond in entry` for a list entry.
bool py_in(const json::Value& cond, const Ev& list) {
    const std::size_t n = list.list_size();
    for (std::size_t i = 0; i < n; ++i) {
        if (list.kind == Ev::Kind::List ? py_equal(cond, list.list[i])
                                        : json::python_equal(cond, list.value->as_array()[i])) {
            return true;
        }
    }
    return false;
}

// eq_coerced is the reference's Query._eq with _type_coercion=True.
bool eq_coerced(const json::Value& cond, const Ev& e) {
    if (e.is_missing()) {
        return false;  // str(_Undefined()) holds an address, never equal
    }
    if (cond.is_string() && !e.is_string()) {
        const auto m = materialize(e);
        return m && json::python_str(*m) == cond.as_string();
    }
    return py_equal(cond, e);
}

// Numbers for ordering / modulo.
struct Num {
    enum class Kind { Int, Big, Float } kind = Kind::Int;
    std::int64_t i = 0;
    const std::string* big = nullptr;
    double f = 0;
};

std::optional<Num> as_num(const json::Value& v) {
    Num n;
    switch (v.type()) {
        case T::Bool:
            n.i = v.as_bool() ? 1 : 0;
            return n;
        case T::Int:
            n.i = v.as_int();
            return n;
        case T::BigInt:
            n.kind = Num::Kind::Big;
            n.big = &v.as_bigint().digits;
            return n;
        case T::Float:
            n.kind = Num::Kind::Float;
            n.f = v.as_float();
            return n;
        default:
            return std::nullopt;
    }
}

long double num_ld(const Num& n) {
    switch (n.kind) {
        case Num::Kind::Int:
            return static_cast<long double>(n.i);
        case Num::Kind::Float:
            return static_cast<long double>(n.f);
        case Num::Kind::Big:
            return std::strtold(n.big->c_str(), nullptr);
    }
    return 0;
}

// num_cmp returns -1/0/1, or nullopt when unordered (NaN).
std::optional<int> num_cmp(const Num& a, const Num& b) {
    if (a.kind == Num::Kind::Int && b.kind == Num::Kind::Int) {
        return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    }
    if (a.kind == Num::Kind::Big && b.kind == Num::Kind::Big) {
        const std::string& x = *a.big;
        const std::string& y = *b.big;
        const bool xn = !x.empty() && x[0] == '-';
        const bool yn = !y.empty() && y[0] == '-';
        if (xn != yn) {
            return xn ? -1 : 1;
        }
        int c = x.size() != y.size() ? (x.size() < y.size() ? -1 : 1) : x.compare(y);
        c = c < 0 ? -1 : (c > 0 ? 1 : 0);
        return xn ? -c : c;
    }
    if (a.kind == Num::Kind::Big && b.kind == Num::Kind::Int) {
        return (*a.big)[0] == '-' ? -1 : 1;  // outside int64 range
    }
    if (a.kind == Num::Kind::Int && b.kind == Num::Kind::Big) {
        return (*b.big)[0] == '-' ? 1 : -1;
    }
    // A float is involved; long double holds every int64 exactly on x86-64.
    const long double x = num_ld(a);
    const long double y = num_ld(b);
    if (std::isnan(x) || std::isnan(y)) {
        return std::nullopt;
    }
    return x < y ? -1 : (x > y ? 1 : 0);
}

enum class Cmp { Gt, Gte, Lt, Lte };

bool apply_cmp(int c, Cmp op) {
    switch (op) {
        case Cmp::Gt:
            return c > 0;
        case Cmp::Gte:
            return c >= 0;
        case Cmp::Lt:
            return c < 0;
        case Cmp::Lte:
            return c <= 0;
    }
    return false;
}

// py_order is Python `entry <op> cond`; nullopt stands for TypeError (caught: false).
std::optional<bool> py_order(const Ev& e, const json::Value& cond, Cmp op) {
    if (e.kind == Ev::Kind::Value) {
        const auto a = as_num(*e.value);
        const auto b = as_num(cond);
        if (a && b) {
            const auto c = num_cmp(*a, *b);
            return c ? apply_cmp(*c, op) : false;
        }
        if (e.value->is_string() && cond.is_string()) {
            // UTF-8 byte order is code point order.
            const int c = e.value->as_string().compare(cond.as_string());
            return apply_cmp(c < 0 ? -1 : (c > 0 ? 1 : 0), op);
        }
    }
    if (e.is_list() && cond.is_array()) {
        const json::Array& c = cond.as_array();
        const std::size_t n = e.list_size();
        for (std::size_t i = 0; i < n && i < c.size(); ++i) {
            const Ev x = e.element(i);
            if (!py_equal(c[i], x)) {
                return py_order(x, c[i], op);
            }
        }
        const int s = n < c.size() ? -1 : (n > c.size() ? 1 : 0);
        return apply_cmp(s, op);
    }
    return std::nullopt;
}

// py_int parses a path part like Python's int(str): surrounding whitespace, sign, digits with
// single underscores between them. Out-of-range values saturate (they index nothing anyway).
std::optional<long long> py_int(std::string_view s) {
    const auto ws = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    while (!s.empty() && ws(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && ws(s.back())) {
        s.remove_suffix(1);
    }
    bool neg = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) {
        return std::nullopt;
    }
    long long v = 0;
    bool prev_digit = false;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            if (v < std::numeric_limits<long long>::max() / 20) {
                v = v * 10 + (c - '0');
            }
            prev_digit = true;
        } else if (c == '_' && prev_digit) {
            prev_digit = false;
        } else {
            return std::nullopt;
        }
    }
    if (!prev_digit) {
        return std::nullopt;
    }
    return neg ? -v : v;
}

bool ascii_isdigit(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> split_dots(std::string_view key) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = key.find('.', start);
        if (dot == std::string_view::npos) {
            parts.push_back(key.substr(start));
            return parts;
        }
        parts.push_back(key.substr(start, dot - start));
        start = dot + 1;
    }
}

// string_chars returns the code points of a string as one-character strings.
std::vector<std::string> string_chars(const std::string& s) {
    std::vector<std::string> out;
    for (char32_t cp : utf8_to_u32(s)) {
        out.push_back(u32_to_utf8(cp));
    }
    return out;
}

// Python "x in entry" for a key name (the non-dotted $exists test).
bool py_contains_key(const Ev& e, std::string_view key) {
    if (e.is_object()) {
        return e.object().contains(key);
    }
    if (e.is_string()) {
        return e.value->as_string().find(key) != std::string::npos;
    }
    if (e.is_list()) {
        return py_in(json::Value(key), e);
    }
    throw FilterError("TypeError",
                      std::string("argument of type '") + py_type(e) + "' is not iterable");
}

// Python modulo of two numbers; throws FilterError like the reference.
json::Value py_mod(const Num& a, const Num& d) {
    const bool is_zero =
        (d.kind == Num::Kind::Int && d.i == 0) || (d.kind == Num::Kind::Float && d.f == 0.0);
    if (a.kind == Num::Kind::Float || d.kind == Num::Kind::Float) {
        if (is_zero) {
            throw FilterError("ZeroDivisionError", "float modulo");
        }
        const double x = static_cast<double>(num_ld(a));
        const double y = static_cast<double>(num_ld(d));
        double m = std::fmod(x, y);
        if (m != 0.0) {
            if ((y < 0) != (m < 0)) {
                m += y;
            }
        } else {
            m = std::copysign(0.0, y);
        }
        return json::Value(m);
    }
    if (is_zero) {
        throw FilterError("ZeroDivisionError", "integer division or modulo by zero");
    }
    if (d.kind == Num::Kind::Big) {
        throw FilterError("NotImplementedError", "$mod with a divisor outside the int64 range");
    }
    std::int64_t r = 0;
    if (a.kind == Num::Kind::Big) {
        // Long division of the decimal text by an int64 divisor.
        const std::string& digits = *a.big;
        const bool neg = digits[0] == '-';
        const i128 dd = d.i < 0 ? -static_cast<i128>(d.i) : d.i;
        i128 rem = 0;
        for (std::size_t k = neg ? 1 : 0; k < digits.size(); ++k) {
            rem = (rem * 10 + (digits[k] - '0')) % dd;
        }
        i128 signed_rem = neg ? -rem : rem;  // C-style remainder
        if (signed_rem != 0 && ((signed_rem < 0) != (d.i < 0))) {
            signed_rem += d.i;
        }
        r = static_cast<std::int64_t>(signed_rem);
    } else {
        if (d.i == -1) {
            return json::Value(0);
        }
        r = a.i % d.i;
        if (r != 0 && ((r < 0) != (d.i < 0))) {
            r += d.i;
        }
    }
    return json::Value(static_cast<long long>(r));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Evaluator: Query._match / _process_condition and the operators.

struct Evaluator {
    const QueryEngine& engine;

    // M(cond, value): Query._match.
    bool match(const json::Value& cond, const Ev& e) const {
        if (cond.is_object()) {
            for (const auto& [k, c] : cond.as_object()) {
                if (!process(k, c, e)) {
                    return false;
                }
            }
            return true;
        }
        if (e.is_list()) {
            return py_in(cond, e);
        }
        return eq_coerced(cond, e);
    }

    // Query._extract; sets index_error like the IndexError the reference catches.
    Ev extract(const Ev& e, const std::vector<std::string_view>& parts, std::size_t idx,
               bool& index_error) const {
        if (idx == parts.size()) {
            return e;
        }
        if (e.is_value(T::Null)) {
            return e;
        }
        if (e.is_list()) {
            if (const auto n = py_int(parts[idx])) {
                const auto size = static_cast<long long>(e.list_size());
                long long k = *n < 0 ? *n + size : *n;
                if (k < 0 || k >= size) {
                    index_error = true;
                    return Ev::missing();
                }
                return extract(e.element(static_cast<std::size_t>(k)), parts, idx + 1, index_error);
            }
            Ev out;
            out.kind = Ev::Kind::List;
            const std::size_t n = e.list_size();
            out.list.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                out.list.push_back(extract(e.element(i), parts, idx, index_error));
                if (index_error) {
                    return Ev::missing();
                }
            }
            return out;
        }
        if (e.is_object()) {
            if (const json::Value* member = e.object().find(parts[idx])) {
                return extract(Ev::of(*member), parts, idx + 1, index_error);
            }
        }
        return Ev::missing();
    }

    Ev extract_key(std::string_view key, const Ev& e) const {
        if (key.find('.') == std::string_view::npos && e.is_object()) {
            // Fast path (one plain header name): no path split, no allocation.
            const json::Value* member = e.object().find(key);
            return member != nullptr ? Ev::of(*member) : Ev::missing();
        }
        bool index_error = false;
        Ev out = extract(e, split_dots(key), 0, index_error);
        return index_error ? Ev::missing() : out;
    }

    // Query._path_exists: true when it returns `condition`, false for `not condition`.
    bool path_exists(const std::vector<std::string_view>& parts, std::size_t from,
                     const json::Value& cond, Ev entry) const {
        for (std::size_t i = from; i < parts.size(); ++i) {
            const std::string_view k = parts[i];
            const bool digit = ascii_isdigit(k);
            if ((entry.is_list() || entry.is_string()) && !digit) {
                if (entry.is_string()) {
                    if (entry.value->as_string().empty()) {
                        return false;
                    }
                    // Compat: iterating a one-character string yields itself forever.
                    throw FilterError("RecursionError",
                                      "maximum recursion depth exceeded while calling a Python "
                                      "object");
                }
                const std::size_t n = entry.list_size();
                for (std::size_t j = 0; j < n; ++j) {
                    const bool r = path_exists(parts, i, cond, entry.element(j));
                    const bool same = r ? json::python_equal(cond, cond)
                                        : json::python_equal(json::Value(!truthy(cond)), cond);
                    if (same) {
                        return true;
                    }
                }
                return false;
            }
            if (entry.is_list() || entry.is_string()) {
                const auto n = py_int(k);
                if (!n) {
                    return false;
                }
                if (entry.is_string()) {
                    const std::u32string u = utf8_to_u32(entry.value->as_string());
                    if (*n >= static_cast<long long>(u.size())) {
                        return false;
                    }
                    entry = Ev::own(json::Value(u32_to_utf8(u[static_cast<std::size_t>(*n)])));
                } else {
                    if (*n >= static_cast<long long>(entry.list_size())) {
                        return false;
                    }
                    entry = entry.element(static_cast<std::size_t>(*n));
                }
                continue;
            }
            if (entry.is_object()) {
                const json::Value* member = entry.object().find(k);
                if (member == nullptr) {
                    return false;
                }
                entry = Ev::of(*member);
                continue;
            }
            return false;  // TypeError: not subscriptable (caught)
        }
        return true;
    }

    // P(k, c, value): Query._process_condition.
    bool process(std::string_view key, const json::Value& cond, const Ev& e) const {
        if (cond.is_object()) {
            if (const json::Value* exists = cond.as_object().find("$exists")) {
                if (key.find('.') != std::string_view::npos) {
                    const bool r = path_exists(split_dots(key), 0, *exists, e);
                    return r ? truthy(*exists) : !truthy(*exists);
                }
                const bool present = py_contains_key(e, key);
                if (!json::python_equal(*exists, json::Value(present))) {
                    return false;
                }
                if (cond.as_object().size() == 1) {
                    return true;
                }
            }
        }
        if (!key.empty() && key[0] == '$') {
            return op(key, cond, e);
        }
        return match(cond, extract_key(key, e));
    }

    template <typename Fn>
    static void for_each_sequence_item(const json::Value& cond, Fn&& fn) {
        if (cond.is_array()) {
            for (const json::Value& x : cond.as_array()) {
                if (!fn(x)) {
                    return;
                }
            }
        } else {
            for (const std::string& ch : string_chars(cond.as_string())) {
                if (!fn(json::Value(ch))) {
                    return;
                }
            }
        }
    }

    bool logical(std::string_view name, const json::Value& cond, const Ev& e) const {
        if (!cond.is_array() && !cond.is_string()) {
            throw QueryError(std::string(name) + " has been attributed incorrect argument " +
                             json::python_str(cond));
        }
        // $and: all; $or: any; $nor: none.
        const bool is_or = name == "$or";
        const bool is_nor = name == "$nor";
        bool result = !is_or;
        for_each_sequence_item(cond, [&](const json::Value& sub) {
            const bool m = match(sub, e);
            if (is_or && m) {
                result = true;
                return false;
            }
            if (!is_or && (is_nor ? m : !m)) {
                result = false;
                return false;
            }
            return true;
        });
        return result;
    }

    bool op_in(const json::Value& cond, const Ev& e) const {
        if (!cond.is_array()) {
            throw FilterError("TypeError", "condition must be a list");
        }
        for (const json::Value& x : cond.as_array()) {
            if (e.is_list() ? py_in(x, e) : py_equal(x, e)) {
                return true;
            }
        }
        return false;
    }

    bool op_type(const json::Value& cond, const Ev& e) const {
        const auto is_int = [&] {
            return e.is_value(T::Int) || e.is_value(T::BigInt) || e.is_value(T::Bool);
        };
        if (cond.is_string() && cond.as_string() == "number") {
            return is_int() || e.is_value(T::Float);
        }
        if (cond.is_array() || cond.is_object()) {
            throw FilterError("TypeError", std::string("unhashable type: '") + py_type(cond) + "'");
        }
        static const std::pair<const char*, int> kAliases[] = {
            {"double", 1},  {"string", 2},     {"object", 3},      {"array", 4},
            {"binData", 5}, {"objectId", 7},   {"bool", 8},        {"date", 9},
            {"null", 10},   {"regex", 11},     {"javascript", 13}, {"javascriptWithScope", 15},
            {"int", 16},    {"timestamp", 17}, {"long", 18}};
        static const int kCodes[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 15, 16, 17, 18};
        int code = 0;
        if (cond.is_string()) {
            for (const auto& [alias, c] : kAliases) {
                if (cond.as_string() == alias) {
                    code = c;
                }
            }
        } else {
            for (int c : kCodes) {
                if (json::python_equal(cond, json::Value(c))) {
                    code = c;
                }
            }
        }
        if (code == 0) {
            throw QueryError("$type has been used with unknown type " + json::python_str(cond));
        }
        switch (code) {
            case 1:
                return e.is_value(T::Float);
            case 2:
            case 7:
            case 9:
            case 13:
            case 15:
                return e.is_string();
            case 3:
                return e.is_object();
            case 4:
                return e.is_list() || e.is_string();
            case 8:
                return e.is_value(T::Bool);
            case 10:
                return e.is_value(T::Null);
            case 16:
            case 17:
            case 18:
                return is_int();
            default:
                return false;  // bytearray, re.Pattern: never in JSON
        }
    }

    bool op_mod(const json::Value& cond, const Ev& e) const {
        // Python evaluates `entry % condition[0] == condition[1]` left to right.
        const auto subscript = [&](std::size_t i) -> json::Value {
            if (cond.is_array()) {
                if (i >= cond.as_array().size()) {
                    throw FilterError("IndexError", "list index out of range");
                }
                return cond.as_array()[i];
            }
            if (cond.is_string()) {
                const auto chars = string_chars(cond.as_string());
                if (i >= chars.size()) {
                    throw FilterError("IndexError", "string index out of range");
                }
                return json::Value(chars[i]);
            }
            if (cond.is_object()) {
                throw FilterError("KeyError", std::to_string(i));
            }
            throw FilterError("TypeError",
                              std::string("'") + py_type(cond) + "' object is not subscriptable");
        };
        const json::Value divisor = subscript(0);
        if (e.is_string()) {
            throw FilterError("TypeError", "not all arguments converted during string formatting");
        }
        const std::optional<Num> a = e.kind == Ev::Kind::Value ? as_num(*e.value) : std::nullopt;
        const std::optional<Num> d = as_num(divisor);
        if (!a || !d) {
            throw FilterError("TypeError", std::string("unsupported operand type(s) for %: '") +
                                               py_type(e) + "' and '" + py_type(divisor) + "'");
        }
        const json::Value result = py_mod(*a, *d);
        return json::python_equal(result, subscript(1));
    }

    bool op_elem_match(const json::Value& cond, const Ev& e) const {
        if (e.is_string()) {
            for (const std::string& ch : string_chars(e.value->as_string())) {
                if (elem_match_one(cond, Ev::own(json::Value(ch)))) {
                    return true;
                }
            }
            return false;
        }
        if (!e.is_list()) {
            return false;
        }
        const std::size_t n = e.list_size();
        for (std::size_t i = 0; i < n; ++i) {
            if (elem_match_one(cond, e.element(i))) {
                return true;
            }
        }
        return false;
    }

    bool elem_match_one(const json::Value& cond, const Ev& element) const {
        if (!cond.is_object()) {
            // AttributeError ('list' object has no attribute 'items') becomes a QueryError.
            throw QueryError("$elemMatch operator isn't supported");
        }
        for (const auto& [k, c] : cond.as_object()) {
            if (!process(k, c, element)) {
                return false;
            }
        }
        return true;
    }

    bool op_all(const json::Value& cond, const Ev& e) const {
        if (cond.is_object()) {
            for (const auto& [k, unused] : cond.as_object()) {
                (void)unused;
                if (!match(json::Value(k), e)) {
                    return false;
                }
            }
            return true;
        }
        if (!cond.is_array() && !cond.is_string()) {
            throw FilterError("TypeError",
                              std::string("'") + py_type(cond) + "' object is not iterable");
        }
        bool result = true;
        for_each_sequence_item(cond, [&](const json::Value& x) {
            result = match(x, e);
            return result;
        });
        return result;
    }

    bool op_regex(const json::Value& cond, const Ev& e) const {
        if (!e.is_string()) {
            return false;
        }
        if (!cond.is_string()) {
            throw QueryError(json::python_str(cond) +
                             " is not a regular expression and should be a string");
        }
        PyRegex scratch;
        return engine.regex_for(cond, scratch).search(e.value->as_string());
    }

    bool op(std::string_view name, const json::Value& cond, const Ev& e) const {
        if (name == "$eq") {
            return eq_coerced(cond, e);
        }
        if (name == "$ne") {
            return !eq_coerced(cond, e);
        }
        if (name == "$gt" || name == "$gte" || name == "$lt" || name == "$lte") {
            const Cmp c = name == "$gt"    ? Cmp::Gt
                          : name == "$gte" ? Cmp::Gte
                          : name == "$lt"  ? Cmp::Lt
                                           : Cmp::Lte;
            return py_order(e, cond, c).value_or(false);
        }
        if (name == "$in") {
            return op_in(cond, e);
        }
        if (name == "$nin") {
            return !op_in(cond, e);
        }
        if (name == "$and" || name == "$or" || name == "$nor") {
            return logical(name, cond, e);
        }
        if (name == "$not") {
            return !match(cond, e);
        }
        if (name == "$regex") {
            return op_regex(cond, e);
        }
        if (name == "$exists" || name == "$noop") {
            return true;
        }
        if (name == "$all") {
            return op_all(cond, e);
        }
        if (name == "$elemMatch") {
            return op_elem_match(cond, e);
        }
        if (name == "$size") {
            if (!cond.is_int() && !cond.is_bigint() && !cond.is_bool()) {
                throw QueryError("$size has been attributed incorrect argument " +
                                 json::python_str(cond));
            }
            return e.is_list() &&
                   json::python_equal(cond, json::Value(static_cast<long long>(e.list_size())));
        }
        if (name == "$type") {
            return op_type(cond, e);
        }
        if (name == "$mod") {
            return op_mod(cond, e);
        }
        if (name == "$options" || name == "$text" || name == "$where" ||
            name == "$not_implemented") {
            throw FilterError("NotImplementedError", "");
        }
        if (name == "$match") {
            return match(cond, e);  // Compat: getattr(self, "_match")
        }
        // Compat gap: other private attributes of the reference Query class reachable as
        // "$<name>" ($extract, $path_exists, dunders) are reported as unsupported operators.
        throw QueryError(std::string(name) + " operator isn't supported");
    }
};

QueryEngine::QueryEngine(const json::Value& tree) { collect_regexes(tree); }

void QueryEngine::collect_regexes(const json::Value& v) {
    if (v.is_array()) {
        for (const json::Value& x : v.as_array()) {
            collect_regexes(x);
        }
    } else if (v.is_object()) {
        for (const auto& [k, x] : v.as_object()) {
            if (k == "$regex" && x.is_string() && regexes_.find(&x) == regexes_.end()) {
                regexes_.emplace(&x, PyRegex::compile(x.as_string()));
            }
            collect_regexes(x);
        }
    }
}

const PyRegex& QueryEngine::regex_for(const json::Value& operand, PyRegex& scratch) const {
    const auto it = regexes_.find(&operand);
    if (it != regexes_.end()) {
        return it->second;
    }
    scratch = PyRegex::compile(operand.as_string());
    return scratch;
}

bool QueryEngine::condition(std::string_view key, const json::Value& cond,
                            const json::Object& headers) const {
    Ev root;
    root.kind = Ev::Kind::Root;
    root.root = &headers;
    return Evaluator{*this}.process(key, cond, root);
}

std::optional<std::string_view> QueryEngine::extract_string(std::string_view key,
                                                            const json::Object& headers) const {
    if (key.find('.') == std::string_view::npos) {
        const json::Value* v = headers.find(key);
        if (v != nullptr && v->is_string()) {
            return std::string_view(v->as_string());
        }
        return std::nullopt;
    }
    Ev root;
    root.kind = Ev::Kind::Root;
    root.root = &headers;
    const Ev e = Evaluator{*this}.extract_key(key, root);
    if (e.is_string()) {
        return std::string_view(e.value->as_string());
    }
    return std::nullopt;
}

}  // namespace karton::internal
