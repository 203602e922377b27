// engine/native/wine_debug_parser.cpp — see wine_debug_parser.hpp (spec drakvuf-output.md
// §2.1, §2.2, §2.7, §2.11, §2.13). Line formats were taken from Wine 8.0 output of our own
// ground-truth programs (tests/unit/engine/data/wine_*.stderr).
#include "engine/native/wine_debug_parser.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>

#include "engine/native/internal/records.hpp"

namespace engine::native {

namespace {

constexpr std::size_t kMaxLine = 64 * 1024;
constexpr std::size_t kMaxFrames = 256;
constexpr std::size_t kMaxThreads = 4096;
constexpr std::size_t kMaxSockets = 65536;
constexpr std::size_t kMaxImagesPerPid = 8192;
constexpr std::int64_t kWindowsUserSession = 1;  // the interactive session samples run in

bool all_of(std::string_view s, int (*pred)(int)) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [&](unsigned char c) { return pred(c) != 0; });
}

std::optional<std::uint64_t> parse_hex(std::string_view s) {
    if (s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0) {
        s.remove_prefix(2);
    }
    if (s == "(nil)") {
        return 0;
    }
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
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

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
        s = trim(s);
        if (s.empty()) {
            return out;
        }
        auto sp = s.find_first_of(" \t");
        out.push_back(s.substr(0, sp));
        if (sp == std::string_view::npos) {
            return out;
        }
        s = s.substr(sp);
    }
}

// quoted_after returns the content of the first "..." (optionally L-prefixed) after `key`,
// still in Wine's debugstr escaping.
std::optional<std::string_view> quoted_after(std::string_view s, std::string_view key) {
    auto k = s.find(key);
    if (k == std::string_view::npos) {
        return std::nullopt;
    }
    auto q = s.find('"', k + key.size());
    if (q == std::string_view::npos) {
        return std::nullopt;
    }
    std::size_t i = q + 1;
    while (i < s.size() && s[i] != '"') {
        i += s[i] == '\\' ? 2 : 1;
    }
    if (i >= s.size()) {
        return std::nullopt;
    }
    return s.substr(q + 1, i - q - 1);
}

// unescape_debugstr undoes Wine's debugstr escaping of \\ \" \n \r \t (other escapes kept).
std::string unescape_debugstr(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char n = s[i + 1];
            if (n == '\\' || n == '"') {
                out += n;
                ++i;
                continue;
            }
            if (n == 'n' || n == 'r' || n == 't') {
                out += n == 'n' ? '\n' : n == 'r' ? '\r' : '\t';
                ++i;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

std::string ipv6_full(std::string_view text) {
    in6_addr a{};
    std::string t(text);
    if (::inet_pton(AF_INET6, t.c_str(), &a) != 1) {
        return t;
    }
    std::string out;
    char buf[8];
    for (int i = 0; i < 8; ++i) {
        std::snprintf(buf, sizeof buf, "%02x%02x", a.s6_addr[2 * i], a.s6_addr[2 * i + 1]);
        out += (i ? ":" : "") + std::string(buf);
    }
    return out;
}

bool executable(std::uint32_t protect) { return (protect & 0xF0) != 0; }

}  // namespace

std::optional<WineLine> parse_wine_line(std::string_view line) {
    WineLine w;
    std::string_view rest = line;
    auto c1 = rest.find(':');
    if (c1 == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view first = rest.substr(0, c1);
    if (auto dot = first.find('.'); dot != std::string_view::npos) {
        std::string_view sec = first.substr(0, dot);
        std::string_view ms = first.substr(dot + 1);
        if (!all_of(sec, ::isdigit) || !all_of(ms, ::isdigit) || sec.size() > 12 || ms.size() > 6) {
            return std::nullopt;
        }
        double s = 0;
        for (char c : sec) {
            s = s * 10 + (c - '0');
        }
        double frac = 0;
        double scale = 1;
        for (char c : ms) {
            frac = frac * 10 + (c - '0');
            scale *= 10;
        }
        w.wine_time = s + frac / scale;
        rest = rest.substr(c1 + 1);
        c1 = rest.find(':');
        if (c1 == std::string_view::npos) {
            return std::nullopt;
        }
    }
    std::string_view pid = rest.substr(0, c1);
    rest = rest.substr(c1 + 1);
    auto c2 = rest.find(':');
    if (c2 == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view tid = rest.substr(0, c2);
    if (pid.size() < 4 || pid.size() > 8 || tid.size() < 4 || tid.size() > 8 ||
        !all_of(pid, ::isxdigit) || !all_of(tid, ::isxdigit)) {
        return std::nullopt;
    }
    w.pid = static_cast<std::int64_t>(*parse_hex(pid));
    w.tid = static_cast<std::int64_t>(*parse_hex(tid));
    rest = rest.substr(c2 + 1);
    if (rest.rfind("Call ", 0) == 0) {
        w.kind = rest.substr(0, 4);
        w.message = rest.substr(5);
        return w;
    }
    if (rest.rfind("Ret ", 0) == 0) {
        w.kind = rest.substr(0, 3);
        w.message = trim(rest.substr(4));
        return w;
    }
    for (std::string_view cls : {"trace", "warn", "fixme", "err"}) {
        if (rest.size() > cls.size() && rest.substr(0, cls.size()) == cls &&
            rest[cls.size()] == ':') {
            std::string_view r = rest.substr(cls.size() + 1);
            auto c = r.find(':');
            if (c == std::string_view::npos) {
                break;
            }
            w.kind = rest.substr(0, cls.size());
            w.channel = r.substr(0, c);
            r = r.substr(c + 1);
            auto sp = r.find(' ');
            w.function = r.substr(0, sp);
            w.message = sp == std::string_view::npos ? std::string_view() : r.substr(sp + 1);
            return w;
        }
    }
    w.message = rest;  // e.g. "Starting thread proc ..." (relay) or plain messages
    return w;
}

std::vector<std::string_view> split_relay_arguments(std::string_view args) {
    std::vector<std::string_view> out;
    if (trim(args).empty()) {
        return out;
    }
    bool in_string = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        char c = args[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == ',') {
            out.push_back(trim(args.substr(start, i - start)));
            start = i + 1;
        }
    }
    out.push_back(trim(args.substr(start)));
    return out;
}

std::string render_relay_argument(std::string_view name, std::string_view raw) {
    raw = trim(raw);
    std::string out = std::string(name) + "=";
    auto quote = raw.find('"');
    if (quote != std::string_view::npos) {
        std::string_view ptr = trim(raw.substr(0, quote));
        if (!ptr.empty() && ptr.back() == 'L') {
            ptr.remove_suffix(1);
            ptr = trim(ptr);
        }
        auto last = raw.rfind('"');
        std::string_view text = raw.substr(quote, last - quote + 1);
        if (auto v = parse_hex(ptr)) {
            out += internal::hex(*v) + ":";
        }
        // Compat: Wine's debugstr escaping (\\, \", \n, \xHH) matches apimon's pre-escaping
        // for ASCII; non-ASCII characters keep Wine's \x/\u forms.
        out += std::string(text);
        return out;
    }
    if (auto v = parse_hex(raw)) {
        out += internal::hex(*v);
        return out;
    }
    out += std::string(raw);
    return out;
}

struct WineDebugParser::State {
    struct Frame {
        std::string dll;
        std::string function;
        std::vector<std::string> args;
        std::uint64_t ret = 0;
    };
    struct PendingAlloc {
        std::uint64_t handle = 0;
        std::uint64_t size = 0;
        std::uint64_t type = 0;
        std::uint32_t protect = 0;
    };
    struct PendingException {
        std::uint64_t code = 0;
        std::uint64_t flags = 0;
        std::uint64_t addr = 0;
        std::map<std::string, std::uint64_t> regs;
    };
    struct ThreadState {
        std::vector<Frame> frames;
        std::optional<PendingAlloc> alloc;
        std::optional<PendingException> exception;
        std::optional<int> socket_type;  // from "WSASocketW family ..., type N"
    };

    RecordSink sink;
    ProcessTable& table;
    WineDebugParserOptions options;
    util::Clock& clock;
    std::uint64_t private_uid = 0;
    std::uint64_t parsed = 0;
    std::uint64_t ignored = 0;
    std::map<std::pair<std::int64_t, std::int64_t>, ThreadState> threads;
    std::map<std::pair<std::int64_t, std::uint64_t>, int> sockets;
    std::map<std::int64_t, std::map<std::uint64_t, std::uint64_t>> images;  // pid -> start->end
    std::map<std::int64_t, std::string> exe_names;  // fallback ProcessName from +loaddll

    State(RecordSink s, ProcessTable& t, WineDebugParserOptions o)
        : sink(std::move(s)),
          table(t),
          options(std::move(o)),
          clock(options.clock != nullptr ? *options.clock : util::system_clock()) {}

    std::uint64_t next_uid() {
        return options.next_event_uid ? options.next_event_uid() : ++private_uid;
    }

    std::optional<ProcessInfo> process(std::int64_t pid) { return table.find(pid); }

    nlohmann::ordered_json record(std::string_view plugin, const WineLine& w,
                                  std::optional<std::string> method) {
        internal::CommonFields c;
        c.time = clock.now();
        c.pid = w.pid;
        c.tid = w.tid;
        c.user_id = kWindowsUserSession;
        if (auto p = process(w.pid)) {
            c.ppid = p->ppid;
            c.process_name = p->process_name;
        }
        if (c.process_name.empty()) {
            auto it = exe_names.find(w.pid);
            if (it != exe_names.end()) {
                c.process_name = it->second;
            }
        }
        c.method = std::move(method);
        c.event_uid = next_uid();
        return internal::make_record(plugin, c);
    }

    void emit(nlohmann::ordered_json r) {
        if (sink) {
            sink(std::move(r));
        }
    }

    ThreadState* thread(const WineLine& w) {
        auto key = std::make_pair(w.pid, w.tid);
        auto it = threads.find(key);
        if (it != threads.end()) {
            return &it->second;
        }
        if (threads.size() >= kMaxThreads) {
            return nullptr;
        }
        return &threads[key];
    }

    bool is_image(std::int64_t pid, std::uint64_t start, std::uint64_t size) const {
        auto it = images.find(pid);
        if (it == images.end()) {
            return false;
        }
        std::uint64_t end = start + std::max<std::uint64_t>(size, 1);
        auto next = it->second.upper_bound(start);
        if (next != it->second.begin()) {
            auto prev = std::prev(next);
            if (prev->second > start) {
                return true;
            }
        }
        return next != it->second.end() && next->first < end;
    }

    void forget_images(std::int64_t pid, std::uint64_t start, std::uint64_t end) {
        auto it = images.find(pid);
        if (it == images.end()) {
            return;
        }
        for (auto i = it->second.begin(); i != it->second.end();) {
            if (i->first < end && start < i->second) {
                i = it->second.erase(i);
            } else {
                ++i;
            }
        }
    }

    void flush_exception(const WineLine& w, ThreadState& t);
    void on_relay_call(const WineLine& w, ThreadState& t);
    void on_relay_ret(const WineLine& w, ThreadState& t);
    void on_winsock(const WineLine& w, ThreadState& t);
    void on_virtual(const WineLine& w, ThreadState& t);
    void on_loaddll(const WineLine& w);
    void on_seh(const WineLine& w, ThreadState& t);
    void emit_alloc(const WineLine& w, const PendingAlloc& a, std::uint64_t address);
};

void WineDebugParser::State::on_relay_call(const WineLine& w, ThreadState& t) {
    std::string_view m = w.message;
    auto paren = m.find('(');
    auto ret_pos = m.rfind(") ret=");
    if (paren == std::string_view::npos || ret_pos == std::string_view::npos || ret_pos < paren) {
        return;  // "PE DLL (...)", "TLS callback (...)": loader notifications, not API calls
    }
    std::string_view name = m.substr(0, paren);
    auto dot = name.find('.');
    if (dot == std::string_view::npos || name.find(' ') != std::string_view::npos) {
        return;
    }
    Frame f;
    f.dll = std::string(name.substr(0, dot));
    f.function = std::string(name.substr(dot + 1));
    for (auto a : split_relay_arguments(m.substr(paren + 1, ret_pos - paren - 1))) {
        f.args.emplace_back(a);
    }
    f.ret = parse_hex(trim(m.substr(ret_pos + 6))).value_or(0);
    if (t.frames.size() >= kMaxFrames) {
        t.frames.erase(t.frames.begin());
    }
    t.frames.push_back(std::move(f));
}

void WineDebugParser::State::on_relay_ret(const WineLine& w, ThreadState& t) {
    std::string_view m = w.message;
    auto paren = m.find('(');
    auto rv = m.find(" retval=");
    if (paren == std::string_view::npos || rv == std::string_view::npos) {
        return;
    }
    std::string_view name = m.substr(0, paren);
    auto dot = name.find('.');
    if (dot == std::string_view::npos) {
        return;
    }
    std::string_view dll = name.substr(0, dot);
    std::string_view func = name.substr(dot + 1);
    auto it = std::find_if(t.frames.rbegin(), t.frames.rend(),
                           [&](const Frame& f) { return f.dll == dll && f.function == func; });
    if (it == t.frames.rend()) {
        return;  // a Ret whose Call we never saw (e.g. started before we read the stream)
    }
    Frame f = std::move(*it);
    t.frames.erase(std::next(it).base(), t.frames.end());
    std::string_view after = m.substr(rv + 8);
    auto sp = after.find(' ');
    std::uint64_t retval = parse_hex(after.substr(0, sp)).value_or(0);
    const HookEntry* hook = nullptr;
    if (!options.hooks.empty()) {
        hook = find_hook(options.hooks, f.dll, f.function);
        if (hook == nullptr) {
            return;
        }
    }
    auto rec = record("apimon", w, f.function);
    rec["Event"] = "api_called";
    rec["CLSID"] = hook != nullptr && hook->clsid ? nlohmann::ordered_json(*hook->clsid)
                                                  : nlohmann::ordered_json(nullptr);
    rec["CalledFrom"] = internal::hex(f.ret);
    rec["ReturnValue"] = internal::hex(retval);
    nlohmann::ordered_json args = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < f.args.size(); ++i) {
        std::string name_i = "Arg" + std::to_string(i);
        if (hook != nullptr && i < hook->args.size() && !hook->args[i].name.empty()) {
            name_i = hook->args[i].name;
        }
        args.push_back(render_relay_argument(name_i, f.args[i]));
    }
    if (!args.empty()) {
        rec["Arguments"] = std::move(args);
    }
    emit(std::move(rec));
}

void WineDebugParser::State::on_winsock(const WineLine& w, ThreadState& t) {
    std::string_view m = w.message;
    std::optional<std::string_view> dns;
    if (w.function == "getaddrinfo" && m.rfind("node ", 0) == 0) {
        dns = quoted_after(m, "node ");
    } else if (w.function == "GetAddrInfoW" || w.function == "GetAddrInfoExW") {
        dns = quoted_after(m, "name");
    } else if (w.function == "gethostbyname" || w.function == "WSAAsyncGetHostByName") {
        dns = quoted_after(m, "");
    } else if (w.function == "WSASocketW" || w.function == "WSASocketA") {
        if (m.rfind("family ", 0) == 0) {
            auto type_pos = m.find("type ");
            int type = 0;
            if (type_pos != std::string_view::npos) {
                std::string_view v = m.substr(type_pos + 5);
                std::from_chars(v.data(), v.data() + v.size(), type);
            }
            t.socket_type = type;
        } else if (m.rfind("created ", 0) == 0 && t.socket_type) {
            if (auto h = parse_hex(trim(m.substr(8))); h && sockets.size() < kMaxSockets) {
                sockets[{w.pid, *h}] = *t.socket_type;
            }
            t.socket_type.reset();
        }
        return;
    } else if (w.function == "connect" || w.function == "WSAConnect") {
        // "socket 0x58, addr { family AF_INET, address 127.0.0.1, port 80 }, len 16"
        auto sock_pos = m.find("socket ");
        auto fam = m.find("family ");
        auto addr = m.find("address ");
        auto port = m.find("port ");
        if (sock_pos == std::string_view::npos || fam == std::string_view::npos ||
            addr == std::string_view::npos || port == std::string_view::npos) {
            return;
        }
        std::string_view handle = m.substr(sock_pos + 7);
        handle = handle.substr(0, handle.find(','));
        std::string_view family = m.substr(fam + 7);
        family = family.substr(0, family.find(','));
        std::string_view ip = m.substr(addr + 8);
        ip = ip.substr(0, ip.find(','));
        std::string_view port_s = m.substr(port + 5);
        int port_n = 0;
        std::from_chars(port_s.data(), port_s.data() + port_s.size(), port_n);
        bool v6 = family == "AF_INET6";
        if (!v6 && family != "AF_INET") {
            return;
        }
        int type = 1;
        if (auto h = parse_hex(trim(handle))) {
            auto it = sockets.find({w.pid, *h});
            if (it != sockets.end()) {
                type = it->second;
            }
        }
        auto p = process(w.pid);
        auto rec = record("socketmon", w, std::string(w.function));
        rec["Owner"] = rec["ProcessName"];
        rec["OwnerId"] = kWindowsUserSession;
        rec["OwnerPID"] = w.pid;
        rec["OwnerPPID"] = p ? p->ppid : 0;
        rec["Protocol"] = std::string(type == 2 ? "UDP" : "TCP") + (v6 ? "v6" : "v4");
        if (type != 2) {
            rec["TcpState"] = "syn_sent";  // reported at the call, before the handshake
        }
        rec["LocalIp"] = v6 ? "0000:0000:0000:0000:0000:0000:0000:0000" : "0.0.0.0";
        rec["LocalPort"] = 0;
        rec["RemoteIp"] = v6 ? ipv6_full(ip) : std::string(ip);
        rec["RemotePort"] = port_n;
        emit(std::move(rec));
        return;
    } else {
        return;
    }
    if (!dns || dns->empty()) {
        return;
    }
    auto rec = record("socketmon", w, std::string(w.function));
    rec["DnsName"] = unescape_debugstr(*dns);
    emit(std::move(rec));
}

void WineDebugParser::State::emit_alloc(const WineLine& w, const PendingAlloc& a,
                                        std::uint64_t address) {
    auto rec = record("procmon", w, std::string("NtAllocateVirtualMemory"));
    rec["ProcessHandle"] = internal::hex(a.handle);
    rec["BaseAddress"] = internal::hex(address);
    rec["RegionSize"] = a.size;
    rec["AllocationType"] = internal::hex(a.type);
    rec["NewProtectWin32"] = internal::win32_protection(a.protect);
    emit(std::move(rec));
    if (options.on_exec_memory) {
        ExecMemoryEvent ev{
            "NtAllocateVirtualMemory", w.pid, w.tid, address, a.size, a.protect, process(w.pid)};
        options.on_exec_memory(ev);
    }
}

void WineDebugParser::State::on_virtual(const WineLine& w, ThreadState& t) {
    auto f = words(w.message);
    if (w.function == "NtAllocateVirtualMemory" && f.size() >= 5) {
        auto handle = parse_hex(f[0]);
        auto addr = parse_hex(f[1]);
        auto size = parse_hex(f[2]);
        auto type = parse_hex(f[3]);
        auto prot = parse_hex(f[4]);
        t.alloc.reset();
        if (!handle || !addr || !size || !type || !prot ||
            !executable(static_cast<std::uint32_t>(*prot))) {
            return;
        }
        PendingAlloc a{*handle, *size, *type, static_cast<std::uint32_t>(*prot)};
        if (*addr != 0) {
            emit_alloc(w, a, *addr);
        } else {
            t.alloc = a;  // the address appears in the following dump_view "View:" line
        }
        return;
    }
    if (w.function == "dump_view" && f.size() >= 5 && f[0] == "View:") {
        auto start = parse_hex(f[1]);
        auto last = parse_hex(f[3]);
        if (!start || !last || *last < *start) {
            return;
        }
        std::uint64_t end = *last + 1;
        if (f[4].rfind("(image", 0) == 0) {
            auto& m = images[w.pid];
            if (m.size() < kMaxImagesPerPid) {
                forget_images(w.pid, *start, end);
                m[*start] = end;
            }
        } else {
            forget_images(w.pid, *start, end);  // e.g. an unloaded DLL's range reused by valloc
            if (t.alloc && f[4].rfind("(valloc", 0) == 0) {
                PendingAlloc a = *t.alloc;
                t.alloc.reset();
                emit_alloc(w, a, *start);
            }
        }
        return;
    }
    if (w.function == "NtProtectVirtualMemory" && f.size() >= 4) {
        auto handle = parse_hex(f[0]);
        auto addr = parse_hex(f[1]);
        auto size = parse_hex(f[2]);
        auto prot = parse_hex(f[3]);
        if (!handle || !addr || !size || !prot || !executable(static_cast<std::uint32_t>(*prot))) {
            return;
        }
        if (is_image(w.pid, *addr, *size)) {
            return;  // the loader restoring section protections after relocation
        }
        auto rec = record("procmon", w, std::string("NtProtectVirtualMemory"));
        rec["ProcessHandle"] = internal::hex(*handle);
        rec["BaseAddress"] = internal::hex(*addr);
        rec["NumberOfBytesToProtect"] = *size;
        rec["NewProtectWin32"] = internal::win32_protection(static_cast<std::uint32_t>(*prot));
        emit(std::move(rec));
        if (options.on_exec_memory) {
            ExecMemoryEvent ev{
                "NtProtectVirtualMemory",          w.pid,         w.tid, *addr, *size,
                static_cast<std::uint32_t>(*prot), process(w.pid)};
            options.on_exec_memory(ev);
        }
    }
}

void WineDebugParser::State::on_loaddll(const WineLine& w) {
    // build_module: Loaded L"C:\\windows\\system32\\dnsapi.dll" at 0000000001920000: builtin
    if (w.message.rfind("Loaded ", 0) != 0) {
        return;
    }
    auto path_esc = quoted_after(w.message, "Loaded ");
    if (!path_esc) {
        return;
    }
    std::string path = unescape_debugstr(*path_esc);
    auto slash = path.find_last_of("\\/");
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (!exe_names.count(w.pid) && name.size() > 4 &&
        (name.compare(name.size() - 4, 4, ".exe") == 0 ||
         name.compare(name.size() - 4, 4, ".EXE") == 0) &&
        exe_names.size() < kMaxThreads) {
        exe_names[w.pid] = path;
    }
    auto rec = record("librarymon", w, std::string("LdrLoadDll"));
    rec["ModuleName"] = name;
    rec["ModulePath"] = path;
    emit(std::move(rec));
}

void WineDebugParser::State::on_seh(const WineLine& w, ThreadState& t) {
    if (w.function != "dispatch_exception" || w.kind != "trace") {
        return;
    }
    std::string_view m = w.message;
    if (m.rfind("code=", 0) == 0) {
        flush_exception(w, t);
        PendingException e;
        for (auto word : words(m)) {
            auto eq = word.find('=');
            if (eq == std::string_view::npos) {
                continue;
            }
            auto v = parse_hex(word.substr(eq + 1)).value_or(0);
            std::string_view k = word.substr(0, eq);
            if (k == "code") {
                e.code = v;
            } else if (k == "flags") {
                e.flags = v;
            } else if (k == "addr") {
                e.addr = v;
            }
        }
        t.exception = std::move(e);
        return;
    }
    if (t.exception && (m.empty() || m.front() == ' ' || m.find('=') != std::string_view::npos)) {
        for (auto word : words(m)) {
            auto eq = word.find('=');
            if (eq == std::string_view::npos || t.exception->regs.size() > 64) {
                continue;
            }
            if (auto v = parse_hex(word.substr(eq + 1))) {
                t.exception->regs[std::string(word.substr(0, eq))] = *v;
            }
        }
    }
}

void WineDebugParser::State::flush_exception(const WineLine& w, ThreadState& t) {
    if (!t.exception) {
        return;
    }
    PendingException e = std::move(*t.exception);
    t.exception.reset();
    auto rec = record("exmon", w, std::string("KiDispatchException"));
    auto reg = [&](const char* name) {
        auto it = e.regs.find(name);
        return internal::hex(it == e.regs.end() ? 0 : it->second);
    };
    bool is64 = e.regs.count("rax") != 0 || e.regs.count("rip") != 0;
    if (is64) {
        // Compat: DRAKVUF prints "RSP" twice on 64-bit guests (hypervisor RSP as a number,
        // then the trap-frame RSP); a JSON object holds one, so only the first (numeric) one.
        auto rsp = e.regs.find("rsp");
        rec["RSP"] = rsp == e.regs.end() ? 0 : rsp->second;
        rec["ExceptionRecord"] = "0x0";
        rec["ExceptionCode"] = internal::hex(e.code);
        rec["FirstChance"] = 1;
        rec["RIP"] = internal::hex(e.regs.count("rip") ? e.regs["rip"] : e.addr);
        for (const char* r :
             {"rax", "rbx", "rcx", "rdx", "rdi", "rsi", "rbp", "r8", "r9", "r10", "r11"}) {
            std::string key(r);
            std::transform(key.begin(), key.end(), key.begin(), ::toupper);
            rec[key] = reg(r);
        }
    } else {
        rec["RSP"] = reg("esp");
        rec["ExceptionRecord"] = "0x0";
        rec["ExceptionCode"] = internal::hex(e.code);
        rec["FirstChance"] = 1;
        rec["EIP"] = internal::hex(e.regs.count("eip") ? e.regs["eip"] : e.addr);
        for (const char* r : {"eax", "ebx", "ecx", "edx", "edi", "esi", "ebp", "esp"}) {
            std::string key(r);
            std::transform(key.begin(), key.end(), key.begin(), ::toupper);
            rec[key] = reg(r);
        }
    }
    std::string name = rec["ProcessName"].get<std::string>();
    rec["Name"] = name.empty() ? "NOPROC" : name;
    emit(std::move(rec));
}

WineDebugParser::WineDebugParser(RecordSink sink, ProcessTable& processes,
                                 WineDebugParserOptions options)
    : state_(std::make_unique<State>(std::move(sink), processes, std::move(options))) {}

WineDebugParser::~WineDebugParser() = default;

void WineDebugParser::feed_line(std::string_view line) {
    State& s = *state_;
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (line.size() > kMaxLine) {
        ++s.ignored;
        return;
    }
    auto w = parse_wine_line(line);
    if (!w) {
        ++s.ignored;
        return;
    }
    ++s.parsed;
    State::ThreadState* t = s.thread(*w);
    if (t == nullptr) {
        return;
    }
    if (t->exception && !(w->channel == "seh" && w->function == "dispatch_exception")) {
        s.flush_exception(*w, *t);
    }
    if (t->alloc && w->channel != "virtual") {
        t->alloc.reset();
    }
    if (w->kind == "Call") {
        s.on_relay_call(*w, *t);
    } else if (w->kind == "Ret") {
        s.on_relay_ret(*w, *t);
    } else if (w->channel == "winsock") {
        s.on_winsock(*w, *t);
    } else if (w->channel == "virtual" && w->kind == "trace") {
        s.on_virtual(*w, *t);
    } else if (w->channel == "loaddll" && w->kind == "trace") {
        s.on_loaddll(*w);
    } else if (w->channel == "seh") {
        s.on_seh(*w, *t);
    }
}

void WineDebugParser::finish() {
    State& s = *state_;
    for (auto& [key, t] : s.threads) {
        if (t.exception) {
            WineLine w;
            w.pid = key.first;
            w.tid = key.second;
            s.flush_exception(w, t);
        }
    }
}

bool WineDebugParser::is_image(std::int64_t pid, std::uint64_t address, std::uint64_t size) const {
    return state_->is_image(pid, address, size);
}

std::uint64_t WineDebugParser::lines_parsed() const { return state_->parsed; }
std::uint64_t WineDebugParser::lines_ignored() const { return state_->ignored; }

}  // namespace engine::native
