// engine/native/hooks_list.cpp — see hooks_list.hpp (spec drakvuf-output.md §4.4).
#include "engine/native/hooks_list.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "util/error.hpp"
#include "util/fs.hpp"

namespace engine::native {

namespace {

constexpr std::size_t kMaxLines = 100000;
constexpr std::size_t kMaxLineLength = 4096;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

bool is_action(std::string_view s) { return s == "log" || s == "log+stack"; }

bool valid_identifier(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '@' || c == '?' ||
               c == '$';
    });
}

std::string dll_stem(std::string_view dll) {
    std::string d = lower(dll);
    if (d.size() > 4 && d.compare(d.size() - 4, 4, ".dll") == 0) {
        d.resize(d.size() - 4);
    }
    return d;
}

}  // namespace

std::vector<HookEntry> parse_hooks_list(std::string_view text) {
    std::vector<HookEntry> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++line_no;
        auto fail = [&](const std::string& why) {
            throw util::InputError("hooks list line " + std::to_string(line_no) + ": " + why);
        };
        if (line_no > kMaxLines) {
            fail("too many lines");
        }
        if (raw.size() > kMaxLineLength) {
            fail("line too long");
        }
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::vector<std::string_view> tok;
        while (true) {
            auto comma = line.find(',');
            tok.push_back(trim(line.substr(0, comma)));
            if (comma == std::string_view::npos) {
                break;
            }
            line = line.substr(comma + 1);
        }
        if (tok.size() < 3) {
            fail("expected <dll>,<function>,<action>,...");
        }
        HookEntry e;
        e.dll = std::string(tok[0]);
        e.function = std::string(tok[1]);
        if (!valid_identifier(e.dll) || !valid_identifier(e.function)) {
            fail("bad dll or function name");
        }
        std::size_t i = 2;
        if (tok[i] == "clsid") {
            if (tok.size() < 5) {
                fail("clsid without value");
            }
            e.clsid = std::string(tok[i + 1]);
            i += 2;
        }
        if (!is_action(tok[i])) {
            std::string_view r = tok[i];
            if (r.rfind("0x", 0) == 0 || r.rfind("0X", 0) == 0) {
                r.remove_prefix(2);
            }
            std::uint64_t rva = 0;
            auto [p, ec] = std::from_chars(r.data(), r.data() + r.size(), rva, 16);
            if (r.empty() || ec != std::errc() || p != r.data() + r.size()) {
                fail("expected action (log, log+stack) or hex RVA, got '" + std::string(tok[i]) +
                     "'");
            }
            e.rva = rva;
            ++i;
            if (i >= tok.size() || !is_action(tok[i])) {
                fail("RVA must be followed by an action");
            }
        }
        e.action = std::string(tok[i]);
        for (++i; i < tok.size(); ++i) {
            std::string_view a = tok[i];
            if (a.empty()) {
                fail("empty argument type");
            }
            HookArg arg;
            auto colon = a.find(':');
            if (colon != std::string_view::npos) {
                arg.name = std::string(a.substr(0, colon));
                arg.type = std::string(a.substr(colon + 1));
                if (arg.name.empty() || arg.type.empty()) {
                    fail("bad argument '" + std::string(a) + "'");
                }
            } else {
                arg.type = std::string(a);
            }
            e.args.push_back(std::move(arg));
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<HookEntry> load_hooks_list(const std::filesystem::path& path) {
    return parse_hooks_list(util::read_file(path));
}

std::string relay_include(const std::vector<HookEntry>& hooks) {
    std::string out;
    std::set<std::string> seen;
    for (const auto& h : hooks) {
        if (h.rva) {
            continue;
        }
        std::string item = dll_stem(h.dll) + "." + h.function;
        if (!seen.insert(item).second) {
            continue;
        }
        if (!out.empty()) {
            out += ';';
        }
        out += item;
    }
    return out;
}

const HookEntry* find_hook(const std::vector<HookEntry>& hooks, std::string_view dll,
                           std::string_view function) {
    std::string stem = dll_stem(dll);
    for (const auto& h : hooks) {
        if (h.function == function && dll_stem(h.dll) == stem) {
            return &h;
        }
    }
    return nullptr;
}

}  // namespace engine::native
