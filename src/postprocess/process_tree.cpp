// postprocess/process_tree.cpp — §8.2 build_process_tree with conflict recovery.
#include "postprocess/process_tree.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <unordered_map>

#include "postprocess/internal/line_reader.hpp"
#include "postprocess/py_json.hpp"
#include "util/logging.hpp"
#include "util/utf8.hpp"

namespace postprocess {
namespace {

enum class EventKind { Running, Create, Exit };

struct Event {
    EventKind kind;
    double ts = 0.0;
    size_t seq = 0;
    int64_t pid = 0;           // Running: PID; Create: creator PID; Exit: ExitPid
    int64_t ppid = 0;          // Running: PPID
    int64_t new_pid = 0;       // Create
    std::string name;          // Running: RunningProcess; Create: ImagePathName or "Unnamed"
    std::string command_line;  // Create (NtCreateUserProcess), decoded JSON string
    bool has_args = false;
};

std::optional<double> parse_timestamp(std::string_view enc) {
    std::string text;
    if (!enc.empty() && enc.front() == '"') {
        auto s = py_decode_string(enc);
        if (!s) {
            return std::nullopt;
        }
        text = *s;
    } else {
        text.assign(enc);
    }
    if (text.empty() || text.size() > 64) {
        return std::nullopt;
    }
    char* endp = nullptr;
    const double v = std::strtod(text.c_str(), &endp);
    if (endp != text.c_str() + text.size()) {
        return std::nullopt;
    }
    return v;
}

std::optional<int64_t> parse_hex_status(std::string_view enc) {
    auto s = py_decode_string(enc);
    if (!s || s->empty() || s->size() > 20) {
        return std::nullopt;
    }
    std::string_view t = *s;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        t.remove_prefix(2);
    }
    int64_t v = 0;
    for (char c : t) {
        const int h = util::hex_digit_value(c);
        if (h < 0) {
            return std::nullopt;
        }
        v = (v << 4) | h;
    }
    return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::optional<std::string> unescape_c_layer(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i + 1 >= s.size()) {
            return std::nullopt;  // "\\ at end of string"
        }
        const char e = s[++i];
        switch (e) {
            case '\n':
                break;  // line continuation
            case '\\':
                out += '\\';
                break;
            case '\'':
                out += '\'';
                break;
            case '"':
                out += '"';
                break;
            case 'a':
                out += '\a';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'v':
                out += '\v';
                break;
            case 'x': {
                if (i + 2 >= s.size()) {
                    return std::nullopt;
                }
                const int h1 = util::hex_digit_value(s[i + 1]);
                const int h2 = util::hex_digit_value(s[i + 2]);
                if (h1 < 0 || h2 < 0) {
                    return std::nullopt;
                }
                out += static_cast<char>(h1 * 16 + h2);
                i += 2;
                break;
            }
            case 'u':
            case 'U': {
                const size_t n = e == 'u' ? 4 : 8;
                if (i + n >= s.size()) {
                    return std::nullopt;
                }
                uint32_t cp = 0;
                for (size_t k = 1; k <= n; ++k) {
                    const int h = util::hex_digit_value(s[i + k]);
                    if (h < 0) {
                        return std::nullopt;
                    }
                    cp = (cp << 4) | static_cast<uint32_t>(h);
                }
                if (cp > 0x10ffff) {
                    return std::nullopt;
                }
                if (cp >= 0xd800 && cp <= 0xdfff) {
                    cp = 0xfffd;
                }
                util::append_utf8(out, cp);
                i += n;
                break;
            }
            case 'N':
                return std::nullopt;  // named escapes need the Unicode name table
            default:
                if (e >= '0' && e <= '7') {
                    int v = e - '0';
                    for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7';
                         ++k) {
                        v = v * 8 + (s[++i] - '0');
                    }
                    // Python yields code point v (0..511); v < 256 is the byte procmon escaped.
                    if (v < 256) {
                        out += static_cast<char>(v);
                    } else {
                        util::append_utf8(out, static_cast<uint32_t>(v));
                    }
                } else {
                    out += '\\';
                    out += e;
                }
                break;
        }
    }
    if (!util::is_valid_utf8(out)) {
        // Compat-ish: Python decodes raw bytes as Latin-1; we only do so when the bytes are
        // not UTF-8 (so correctly escaped UTF-8 command lines are recovered, not mangled).
        std::string latin;
        for (unsigned char b : out) {
            util::append_utf8(latin, b);
        }
        return latin;
    }
    return out;
}

std::optional<std::vector<std::string>> shlex_split_nonposix(std::string_view s) {
    std::vector<std::string> tokens;
    auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_ws(s[i])) {
            ++i;
        }
        if (i >= s.size()) {
            break;
        }
        std::string tok;
        const char c = s[i];
        if (c == '"' || c == '\'') {
            tok += c;
            ++i;
            bool closed = false;
            while (i < s.size()) {
                tok += s[i];
                if (s[i++] == c) {
                    closed = true;
                    break;
                }
            }
            if (!closed) {
                return std::nullopt;  // "No closing quotation"
            }
        } else {
            while (i < s.size() && !is_ws(s[i])) {
                tok += s[i++];
            }
        }
        tokens.push_back(std::move(tok));
    }
    return tokens;
}

std::vector<std::string> split_command_line(std::string_view command_line) {
    if (command_line.empty()) {
        return {};
    }
    auto unescaped = unescape_c_layer(command_line);
    if (!unescaped) {
        return {std::string(command_line)};
    }
    auto tokens = shlex_split_nonposix(*unescaped);
    if (!tokens) {
        return {std::string(command_line)};
    }
    return *tokens;
}

// ---------------------------------------------------------------------------------------------

struct ProcessTreeBuilder::Impl {
    PyObjectParser parser;
    std::string previous_line;
    std::vector<Event> events;
    std::vector<std::string> warnings;
    uint64_t suppressed_warnings = 0;  // beyond kMaxWarnings: counted, not kept
    uint64_t unparseable = 0;

    // Tree under construction.
    ProcessTree tree;
    std::unordered_map<int64_t, std::vector<size_t>> by_pid;

    static bool alive(const Process& p, double a, double b) {
        return p.ts_from <= b && (!p.ts_to || a <= *p.ts_to);
    }

    std::optional<size_t> find(int64_t pid, double a, double b, const char* what) {
        auto it = by_pid.find(pid);
        if (it == by_pid.end()) {
            return std::nullopt;
        }
        std::optional<size_t> best;
        size_t matches = 0;
        for (size_t idx : it->second) {
            if (alive(tree.processes[idx], a, b)) {
                ++matches;
                if (!best || tree.processes[idx].ts_from >= tree.processes[*best].ts_from) {
                    best = idx;
                }
            }
        }
        if (matches > 1) {
            warn(fmt::format("{}: {} processes with pid {} alive at {}; using the newest", what,
                             matches, pid, b));
        }
        return best;
    }

    // A hostile or huge log can hold millions of anomalies; keep the first ones (enough to
    // diagnose) and a count of the rest so memory stays bounded.
    static constexpr size_t kMaxWarnings = 1000;

    void warn(std::string msg) {
        if (warnings.size() < kMaxWarnings) {
            warnings.push_back(std::move(msg));
        } else {
            ++suppressed_warnings;
        }
    }

    size_t add(Process p, std::optional<size_t> parent) {
        // Upstream raises when another process with this pid is alive at ts_from; we close the
        // older one (PID reuse with a lost exit event) or drop an exact duplicate.
        auto it = by_pid.find(p.pid);
        if (it != by_pid.end()) {
            for (size_t idx : it->second) {
                Process& old = tree.processes[idx];
                if (!alive(old, p.ts_from, p.ts_from)) {
                    continue;
                }
                if (old.procname == p.procname && old.ts_from == p.ts_from &&
                    old.parent == parent && !old.mocked) {
                    warn(fmt::format("duplicate process {} ({}) ignored", p.pid, p.procname));
                    return idx;
                }
                warn(fmt::format("pid {} reused at {} while still alive; closing the older one",
                                 p.pid, p.ts_from));
                old.ts_to = p.ts_from;
            }
        }
        const size_t idx = tree.processes.size();
        p.parent = parent;
        if (parent) {
            p.ppid = tree.processes[*parent].pid;
            tree.processes[*parent].children.push_back(idx);
        } else {
            tree.roots.push_back(idx);
        }
        by_pid[p.pid].push_back(idx);
        tree.processes.push_back(std::move(p));
        return idx;
    }

    void apply(const Event& e) {
        switch (e.kind) {
            case EventKind::Running: {
                auto parent = find(e.ppid, 0.0, e.ts, "RunningProcess parent");
                if (!parent) {
                    Process mock;
                    mock.pid = e.ppid;
                    mock.procname = "Mocked parent";
                    mock.ts_from = 0.0;
                    mock.ts_to = e.ts;
                    mock.mocked = true;
                    parent = add(std::move(mock), std::nullopt);
                }
                Process p;
                p.pid = e.pid;
                p.ppid = e.ppid;
                p.procname = e.name;
                p.ts_from = 0.0;
                add(std::move(p), parent);
                break;
            }
            case EventKind::Create: {
                auto parent = find(e.pid, e.ts, e.ts, "creator");
                if (!parent) {
                    // Upstream: "Cannot find parent process" aborts the whole tree.
                    warn(fmt::format("creator pid {} of pid {} unknown; adding a placeholder",
                                     e.pid, e.new_pid));
                    Process mock;
                    mock.pid = e.pid;
                    mock.procname = "Mocked parent";
                    mock.ts_from = 0.0;
                    mock.mocked = true;
                    parent = add(std::move(mock), std::nullopt);
                }
                Process p;
                p.pid = e.new_pid;
                p.procname = e.name;
                p.ts_from = e.ts;
                if (e.has_args) {
                    if (auto un = unescape_c_layer(e.command_line)) {
                        p.command_line = *un;
                    } else {
                        p.command_line = e.command_line;
                    }
                    p.args = split_command_line(e.command_line);
                }
                add(std::move(p), parent);
                break;
            }
            case EventKind::Exit: {
                if (auto idx = find(e.pid, e.ts, e.ts, "exit")) {
                    tree.processes[*idx].ts_to = e.ts;
                }
                break;
            }
        }
    }

    void add_line(std::string_view line) {
        if (line == previous_line) {
            return;  // DRAKVUF sometimes duplicates records
        }
        previous_line.assign(line);
        // Strip like Python's bytes.strip() (the splitter already did for its output).
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            return;
        }
        // Fast pre-filter: most procmon records (NtOpenProcess, NtProtectVirtualMemory, ...) are
        // irrelevant. A relevant record names its key/method literally unless it uses \u
        // escapes, in which case it is parsed anyway.
        if (line.find("RunningProcess") == std::string_view::npos &&
            line.find("NtCreate") == std::string_view::npos &&
            line.find("MmCleanProcessAddressSpace") == std::string_view::npos &&
            line.find("\\u") == std::string_view::npos) {
            return;
        }
        if (!parser.parse(line)) {
            ++unparseable;
            return;
        }
        auto int_field = [&](std::string_view key) -> std::optional<int64_t> {
            auto v = parser.get(key);
            return v ? py_decode_int(*v) : std::nullopt;
        };
        auto str_field = [&](std::string_view key) -> std::optional<std::string> {
            auto v = parser.get(key);
            return v ? py_decode_string(*v) : std::nullopt;
        };
        auto ts_enc = parser.get("TimeStamp");
        double ts_value = 0.0;
        bool has_ts = false;
        if (ts_enc) {
            if (auto t = parse_timestamp(*ts_enc)) {
                ts_value = *t;
                has_ts = true;
            }
        }
        const double* ts = has_ts ? &ts_value : nullptr;
        Event e{};
        e.seq = events.size();
        if (parser.get("RunningProcess")) {
            auto pid = int_field("PID");
            auto ppid = int_field("PPID");
            auto name = str_field("RunningProcess");
            if (!pid || !ppid || !ts) {
                warn("RunningProcess record without usable PID/PPID/TimeStamp skipped");
                return;
            }
            e.kind = EventKind::Running;
            e.pid = *pid;
            e.ppid = *ppid;
            e.ts = *ts;
            e.name = name ? *name : std::string();
            events.push_back(std::move(e));
            return;
        }
        auto method = str_field("Method");
        if (!method) {
            return;
        }
        if (*method == "NtCreateUserProcess" || *method == "NtCreateProcessEx") {
            auto status_enc = parser.get("Status");
            auto status = status_enc ? parse_hex_status(*status_enc) : std::nullopt;
            if (!status) {
                warn(*method + " record with unusable Status skipped");
                return;
            }
            if (*status != 0) {
                return;
            }
            auto pid = int_field("PID");
            auto new_pid = int_field("NewPid");
            if (!pid || !new_pid || !ts) {
                warn(*method + " record without usable PID/NewPid/TimeStamp skipped");
                return;
            }
            e.kind = EventKind::Create;
            e.pid = *pid;
            e.new_pid = *new_pid;
            e.ts = *ts;
            if (*method == "NtCreateUserProcess") {
                auto image = str_field("ImagePathName");
                e.name = image ? *image : std::string();
                if (auto cl = str_field("CommandLine")) {
                    e.command_line = *cl;
                    e.has_args = true;
                }
            } else {
                e.name = "Unnamed";
            }
            events.push_back(std::move(e));
        } else if (*method == "MmCleanProcessAddressSpace") {
            auto exit_pid = int_field("ExitPid");
            if (!exit_pid || !ts) {
                warn("MmCleanProcessAddressSpace record without ExitPid/TimeStamp skipped");
                return;
            }
            e.kind = EventKind::Exit;
            e.pid = *exit_pid;
            e.ts = *ts;
            events.push_back(std::move(e));
        }
    }

    ProcessTree finish() {
        // The initial process list comes first (it describes the state before monitoring);
        // everything else is applied in time order since stdout order is not chronological.
        std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
            const bool ra = a.kind == EventKind::Running;
            const bool rb = b.kind == EventKind::Running;
            if (ra != rb) {
                return ra;
            }
            if (ra) {
                return false;
            }
            return a.ts < b.ts;
        });
        for (const Event& e : events) {
            apply(e);
        }
        if (unparseable > 0) {
            warn(fmt::format("{} unparseable procmon lines skipped", unparseable));
        }
        if (suppressed_warnings > 0) {
            warnings.push_back(fmt::format("{} further warnings not listed", suppressed_warnings));
            suppressed_warnings = 0;
        }
        tree.warnings = std::move(warnings);
        ProcessTree out = std::move(tree);
        tree = ProcessTree{};
        by_pid.clear();
        events.clear();
        return out;
    }
};

ProcessTreeBuilder::ProcessTreeBuilder() : impl_(std::make_unique<Impl>()) {}
ProcessTreeBuilder::~ProcessTreeBuilder() = default;
void ProcessTreeBuilder::add_line(std::string_view line) { impl_->add_line(line); }
ProcessTree ProcessTreeBuilder::finish() { return impl_->finish(); }

ProcessTree build_process_tree(const std::filesystem::path& procmon_log) {
    ProcessTreeBuilder builder;
    internal::LineCallbacks cb;
    cb.on_line = [&](std::string_view line, bool) { builder.add_line(line); };
    cb.on_oversize = [](std::string_view, bool, bool, bool) {};
    internal::for_each_line(procmon_log, 32ull << 20, cb);
    return builder.finish();
}

std::string process_tree_to_json(const ProcessTree& tree) {
    std::string out;
    auto open_node = [&](const Process& p) {
        out += "{\"pid\": ";
        out += std::to_string(p.pid);
        out += ", \"procname\": ";
        py_append_string(out, p.procname);
        out += ", \"args\": [";
        for (size_t i = 0; i < p.args.size(); ++i) {
            if (i > 0) {
                out += ", ";
            }
            py_append_string(out, p.args[i]);
        }
        out += "], \"ts_from\": ";
        out += py_float_repr(p.ts_from);
        out += ", \"ts_to\": ";
        out += p.ts_to ? py_float_repr(*p.ts_to) : std::string("null");
        out += ", \"children\": [";
    };
    out += '[';
    // Explicit stack: (process index, next child position).
    std::vector<std::pair<size_t, size_t>> stack;
    for (size_t r = 0; r < tree.roots.size(); ++r) {
        if (r > 0) {
            out += ", ";
        }
        open_node(tree.processes[tree.roots[r]]);
        stack.emplace_back(tree.roots[r], 0);
        while (!stack.empty()) {
            auto& [idx, pos] = stack.back();
            const Process& p = tree.processes[idx];
            if (pos < p.children.size()) {
                if (pos > 0) {
                    out += ", ";
                }
                const size_t child = p.children[pos++];
                open_node(tree.processes[child]);
                stack.emplace_back(child, 0);
            } else {
                out += "]}";
                stack.pop_back();
            }
        }
    }
    out += ']';
    return out;
}

}  // namespace postprocess
