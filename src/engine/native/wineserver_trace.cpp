// engine/native/wineserver_trace.cpp — wineserver -d1 trace -> procmon/filetracer/regmon.
#include "engine/native/wineserver_trace.hpp"

#include "engine/native/internal/records.hpp"

#include <cstdio>
#include <cstdlib>

namespace engine::native {

namespace {

constexpr std::size_t kMaxLine = 1 << 20;
constexpr std::uint32_t kCurrentProcess = 0xffffffff;

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

bool parse_hex(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.size() > 16) {
        return false;
    }
    char* end = nullptr;
    out = std::strtoull(s.c_str(), &end, 16);
    return end == s.c_str() + s.size();
}

std::uint32_t hex32(const std::string& s) {
    std::uint64_t v = 0;
    return parse_hex(s, v) ? static_cast<std::uint32_t>(v) : 0;
}

// string_value extracts and decodes L"..." (or "...") values.
std::string string_value(const std::string& v) {
    std::size_t start = 0;
    if (v.size() >= 2 && v[0] == 'L' && v[1] == '"') {
        start = 2;
    } else if (!v.empty() && v[0] == '"') {
        start = 1;
    } else {
        return v;
    }
    std::size_t end = v.size();
    if (end > start && v[end - 1] == '"') {
        --end;
    }
    return decode_wine_string(v.substr(start, end - start));
}

std::string upper_registry_root(std::string key) {
    static const std::pair<const char*, const char*> roots[] = {
        {"\\Registry\\Machine", "\\REGISTRY\\MACHINE"}, {"\\Registry\\User", "\\REGISTRY\\USER"}};
    for (const auto& [from, to] : roots) {
        std::string f = from;
        if (key.size() >= f.size()) {
            bool same = true;
            for (std::size_t i = 0; i < f.size(); ++i) {
                if (std::tolower(static_cast<unsigned char>(key[i])) !=
                    std::tolower(static_cast<unsigned char>(f[i]))) {
                    same = false;
                    break;
                }
            }
            if (same && (key.size() == f.size() || key[f.size()] == '\\')) {
                return to + key.substr(f.size());
            }
        }
    }
    return key;
}

std::vector<unsigned char> data_bytes(const std::string& v) {
    std::vector<unsigned char> out;
    if (v.size() < 2 || v.front() != '{') {
        return out;
    }
    std::size_t pos = 1;
    while (pos < v.size() && v[pos] != '}') {
        auto comma = v.find_first_of(",}", pos);
        if (comma == std::string::npos) {
            break;
        }
        std::uint64_t b = 0;
        if (parse_hex(v.substr(pos, comma - pos), b)) {
            out.push_back(static_cast<unsigned char>(b));
        }
        pos = v[comma] == ',' ? comma + 1 : comma;
    }
    return out;
}

std::string utf16_bytes_to_utf8(const std::vector<unsigned char>& b) {
    std::string units;
    for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
        std::uint32_t u = b[i] | (b[i + 1] << 8);
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        units += buf;
    }
    return decode_wine_string(units);
}

// reg_value renders NtSetValueKey data as regmon's Value (§2.6).
std::string reg_value(std::uint32_t type, const std::vector<unsigned char>& data) {
    if (type == 1 || type == 2 || type == 6) {
        std::string s = utf16_bytes_to_utf8(data);
        while (!s.empty() && s.back() == '\0') {
            s.pop_back();
        }
        return s;
    }
    if (type == 7) {
        std::string s = utf16_bytes_to_utf8(data);
        std::string out;
        std::size_t start = 0;
        while (start < s.size()) {
            auto nul = s.find('\0', start);
            std::string item =
                s.substr(start, nul == std::string::npos ? std::string::npos : nul - start);
            if (item.empty()) {
                break;
            }
            out += "'" + item + "',";
            if (nul == std::string::npos) {
                break;
            }
            start = nul + 1;
        }
        return out;
    }
    std::string out;
    char buf[4];
    for (std::size_t i = 0; i < data.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%02x", data[i]);
        if (i) {
            out.push_back(' ');
        }
        out += buf;
    }
    return out;
}

std::string flags_string(std::uint32_t value,
                         const std::vector<std::pair<std::uint32_t, const char*>>& names) {
    std::string out;
    for (const auto& [bit, name] : names) {
        if ((value & bit) == bit && bit != 0) {
            out += (out.empty() ? "" : " | ");
            out += name;
            value &= ~bit;
        }
    }
    if (value != 0) {
        out += (out.empty() ? "" : " | ") + format_hex(value);
    }
    // Compat: an empty C++ std::string prints as "(null)" in DRAKVUF (§1.2).
    return out.empty() ? "(null)" : out;
}

const std::vector<std::pair<std::uint32_t, const char*>> kAccess = {
    {0x10000000, "GENERIC_ALL"},
    {0x20000000, "GENERIC_EXECUTE"},
    {0x40000000, "GENERIC_WRITE"},
    {0x80000000, "GENERIC_READ"},
    {0x00010000, "DELETE"},
    {0x00020000, "READ_CONTROL"},
    {0x00040000, "WRITE_DAC"},
    {0x00080000, "WRITE_OWNER"},
    {0x00100000, "SYNCHRONIZE"},
    {0x00000001, "FILE_READ_DATA"},
    {0x00000002, "FILE_WRITE_DATA"},
    {0x00000004, "FILE_APPEND_DATA"},
    {0x00000008, "FILE_READ_EA"},
    {0x00000010, "FILE_WRITE_EA"},
    {0x00000020, "FILE_EXECUTE"},
    {0x00000080, "FILE_READ_ATTRIBUTES"},
    {0x00000100, "FILE_WRITE_ATTRIBUTES"}};
const std::vector<std::pair<std::uint32_t, const char*>> kShare = {
    {1, "FILE_SHARE_READ"}, {2, "FILE_SHARE_WRITE"}, {4, "FILE_SHARE_DELETE"}};
const std::vector<std::pair<std::uint32_t, const char*>> kAttrs = {
    {0x1, "FILE_ATTRIBUTE_READONLY"},   {0x2, "FILE_ATTRIBUTE_HIDDEN"},
    {0x4, "FILE_ATTRIBUTE_SYSTEM"},     {0x10, "FILE_ATTRIBUTE_DIRECTORY"},
    {0x20, "FILE_ATTRIBUTE_ARCHIVE"},   {0x80, "FILE_ATTRIBUTE_NORMAL"},
    {0x100, "FILE_ATTRIBUTE_TEMPORARY"}};
const std::vector<std::pair<std::uint32_t, const char*>> kOptions = {
    {0x1, "FILE_DIRECTORY_FILE"},
    {0x2, "FILE_WRITE_THROUGH"},
    {0x4, "FILE_SEQUENTIAL_ONLY"},
    {0x8, "FILE_NO_INTERMEDIATE_BUFFERING"},
    {0x10, "FILE_SYNCHRONOUS_IO_ALERT"},
    {0x20, "FILE_SYNCHRONOUS_IO_NONALERT"},
    {0x40, "FILE_NON_DIRECTORY_FILE"},
    {0x80, "FILE_CREATE_TREE_CONNECTION"},
    {0x100, "FILE_COMPLETE_IF_OPLOCKED"},
    {0x200, "FILE_NO_EA_KNOWLEDGE"},
    {0x400, "FILE_OPEN_REMOTE_INSTANCE"},
    {0x800, "FILE_RANDOM_ACCESS"},
    {0x1000, "FILE_DELETE_ON_CLOSE"},
    {0x2000, "FILE_OPEN_BY_FILE_ID"},
    {0x4000, "FILE_OPEN_FOR_BACKUP_INTENT"},
    {0x8000, "FILE_NO_COMPRESSION"},
    {0x200000, "FILE_OPEN_REPARSE_POINT"},
    {0x400000, "FILE_OPEN_NO_RECALL"}};
const std::vector<std::pair<std::uint32_t, const char*>> kObjAttrs = {
    {0x2, "OBJ_INHERIT"},         {0x10, "OBJ_PERMANENT"},
    {0x20, "OBJ_EXCLUSIVE"},      {0x40, "OBJ_CASE_INSENSITIVE"},
    {0x80, "OBJ_OPENIF"},         {0x100, "OBJ_OPENLINK"},
    {0x200, "OBJ_KERNEL_HANDLE"}, {0x400, "OBJ_FORCE_ACCESS_CHECK"}};

std::string object_attributes(std::uint32_t a) {
    return a == 0 ? "Attributes=0" : flags_string(a, kObjAttrs);
}

std::string disposition(std::uint32_t d) {
    static const char* names[] = {"FILE_SUPERSEDE", "FILE_OPEN",      "FILE_CREATE",
                                  "FILE_OPEN_IF",   "FILE_OVERWRITE", "FILE_OVERWRITE_IF"};
    return d < 6 ? names[d] : format_hex(d);
}

}  // namespace

std::string decode_wine_string(const std::string& body) {
    std::string out;
    std::uint32_t high = 0;
    auto put = [&](std::uint32_t u) {
        if (u >= 0xd800 && u < 0xdc00) {
            if (high) {
                append_utf8(out, 0xfffd);
            }
            high = u;
            return;
        }
        if (u >= 0xdc00 && u < 0xe000) {
            if (high) {
                append_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
                high = 0;
            } else {
                append_utf8(out, 0xfffd);
            }
            return;
        }
        if (high) {
            append_utf8(out, 0xfffd);
            high = 0;
        }
        append_utf8(out, u);
    };
    for (std::size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c != '\\' || i + 1 >= body.size()) {
            put(static_cast<unsigned char>(c));
            continue;
        }
        char e = body[i + 1];
        std::uint64_t v = 0;
        switch (e) {
            case 'a':
                put(7);
                ++i;
                continue;
            case 'b':
                put(8);
                ++i;
                continue;
            case 't':
                put(9);
                ++i;
                continue;
            case 'n':
                put(10);
                ++i;
                continue;
            case 'v':
                put(11);
                ++i;
                continue;
            case 'f':
                put(12);
                ++i;
                continue;
            case 'r':
                put(13);
                ++i;
                continue;
            case 'e':
                put(27);
                ++i;
                continue;
            case 'x':
                if (i + 3 < body.size() + 0 && parse_hex(body.substr(i + 2, 2), v)) {
                    put(static_cast<std::uint32_t>(v));
                    i += 3;
                    continue;
                }
                break;
            case 'u':
                if (i + 5 < body.size() + 0 && parse_hex(body.substr(i + 2, 4), v)) {
                    put(static_cast<std::uint32_t>(v));
                    i += 5;
                    continue;
                }
                break;
            default:
                put(static_cast<unsigned char>(e));
                ++i;
                continue;
        }
        put('\\');
    }
    if (high) {
        append_utf8(out, 0xfffd);
    }
    return out;
}

std::string c_escape(const std::string& s) { return internal::c_escape(s); }

std::string ntstatus_name(std::uint32_t status) {
    switch (status) {
        case 0:
            return "STATUS_SUCCESS";
        case 0xc0000005:
            return "STATUS_ACCESS_VIOLATION";
        case 0xc000013a:
            return "STATUS_CONTROL_C_EXIT";
        case 0xc0000135:
            return "STATUS_DLL_NOT_FOUND";
        case 0xc0000409:
            return "STATUS_STACK_BUFFER_OVERRUN";
        default:
            break;
    }
    static const char* sev[] = {"SUCCESS", "INFORMATIONAL", "WARNING", "ERROR"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s:%u:%s:0x%x", sev[status >> 30], (status >> 29) & 1,
                  ((status >> 16) & 0xfff) == 0 ? "NONE" : "OTHER", status & 0xffff);
    return buf;
}

std::map<std::string, std::string> parse_trace_args(const std::string& args) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    const std::size_t n = args.size();
    while (i < n) {
        while (i < n && (args[i] == ' ' || args[i] == ',')) {
            ++i;
        }
        std::size_t eq = args.find('=', i);
        if (eq == std::string::npos) {
            break;
        }
        std::string key = args.substr(i, eq - i);
        std::size_t j = eq + 1;
        int depth = 0;
        bool quoted = false;
        for (; j < n; ++j) {
            char c = args[j];
            if (quoted) {
                if (c == '\\') {
                    ++j;
                } else if (c == '"') {
                    quoted = false;
                }
                continue;
            }
            if (c == '"') {
                quoted = true;
            } else if (c == '{') {
                ++depth;
            } else if (c == '}') {
                --depth;
            } else if (c == ',' && depth <= 0) {
                break;
            }
        }
        std::string value = args.substr(eq + 1, j - eq - 1);
        while (!value.empty() && value.back() == ' ') {
            value.pop_back();
        }
        out[key] = value;
        i = j;
    }
    return out;
}

WineserverTrace::WineserverTrace(RecordWriter& writer, ProcessTable& processes,
                                 WineserverTraceOptions options)
    : writer_(writer), processes_(processes), options_(std::move(options)) {}

WineserverTrace::~WineserverTrace() {
    try {
        finish();
    } catch (...) {
        // A failing sink already reported its error on an earlier write.
    }
}

void WineserverTrace::finish() {
    while (!held_creates_.empty()) {
        release_held(held_creates_.begin()->first);
    }
}

void WineserverTrace::release_held(std::uint32_t tid) {
    auto it = held_creates_.find(tid);
    if (it == held_creates_.end()) {
        return;
    }
    auto record = std::move(it->second.record);
    held_creates_.erase(it);
    writer_.sink()(std::move(record));
    ++records_;
}

std::int64_t WineserverTrace::pid_of(std::uint32_t tid) const {
    auto it = tid_pid_.find(tid);
    return it == tid_pid_.end() ? 0 : it->second;
}

bool WineserverTrace::traced(std::int64_t pid) const {
    if (!options_.sample_tree_only) {
        return true;
    }
    auto it = in_tree_.find(pid);
    return it != in_tree_.end() && it->second;
}

nlohmann::ordered_json WineserverTrace::record(const std::string& plugin, std::int64_t pid,
                                               std::uint32_t tid, const std::string& method) {
    CommonFields c;
    c.pid = pid;
    c.tid = tid;
    c.method = method;
    if (auto p = processes_.find(pid)) {
        c.ppid = p->ppid;
        c.process_name = p->process_name;
    }
    return writer_.make_record(plugin, c);
}

void WineserverTrace::emit(nlohmann::ordered_json r, std::int64_t pid) {
    if (!traced(pid)) {
        return;
    }
    writer_.sink()(std::move(r));
    ++records_;
}

std::string WineserverTrace::key_path(std::int64_t pid, std::uint32_t root,
                                      const std::string& name) {
    if (root == 0) {
        return upper_registry_root(name);
    }
    auto& keys = state_[pid].keys;
    auto it = keys.find(root);
    std::string base = it == keys.end() ? "<UNKNOWN>" : it->second;
    return name.empty() ? base : base + "\\" + name;
}

void WineserverTrace::feed_line(const std::string& line) {
    if (line.size() > kMaxLine || line.size() < 7 || line[4] != ':' || line[5] != ' ') {
        return;
    }
    std::uint64_t id = 0;
    if (!parse_hex(line.substr(0, 4), id)) {
        return;
    }
    const auto tid = static_cast<std::uint32_t>(id);
    std::string rest = line.substr(6);
    if (rest == "*process killed*") {
        // Here the prefix is the process id.
        std::int64_t pid = static_cast<std::int64_t>(id);
        auto r = record("procmon", pid, 0, "MmCleanProcessAddressSpace");
        r["ExitPid"] = pid;
        emit(std::move(r), pid);
        processes_.update(pid, [](ProcessInfo& p) { p.exited = 1; });
        if (live_.erase(pid) != 0) {
            live_count_ = live_.size();
        }
        return;
    }
    if (rest[0] == '*') {
        return;  // *fd*, *signal*, *wakeup*, *killed* (thread)
    }
    auto paren = rest.find('(');
    if (paren == std::string::npos || paren == 0) {
        return;
    }
    std::string name = rest.substr(0, paren);
    if (name != "new_thread" && held_creates_.count(tid) != 0) {
        release_held(tid);  // no first thread followed: write the record as it is
    }
    if (rest.compare(paren, 5, "() = ") == 0) {
        std::string tail = rest.substr(paren + 5);
        auto sp = tail.find(' ');
        std::string status = tail.substr(0, sp);
        std::string results;
        if (sp != std::string::npos) {
            auto open = tail.find('{', sp);
            auto close = tail.rfind('}');
            if (open != std::string::npos && close != std::string::npos && close > open) {
                results = tail.substr(open + 1, close - open - 1);
            }
        }
        on_reply(tid, name, status, results);
        return;
    }
    std::string args;
    if (rest.size() >= paren + 3 && rest.compare(rest.size() - 2, 2, " )") == 0) {
        args = rest.substr(paren + 2, rest.size() - paren - 4);
    }
    on_request(tid, name, args);
}

void WineserverTrace::on_request(std::uint32_t tid, const std::string& name,
                                 const std::string& args) {
    static const char* const kInteresting[] = {
        "init_first_thread", "new_process",      "new_thread",       "create_file",
        "open_file_object",  "set_fd_name_info", "set_fd_disp_info", "create_key",
        "open_key",          "set_key_value",    "delete_key",       "delete_key_value",
        "terminate_process"};
    bool wanted = false;
    for (const char* k : kInteresting) {
        wanted = wanted || name == k;
    }
    if (!wanted) {
        return;
    }
    Pending p{name, parse_trace_args(args)};
    const std::int64_t pid = pid_of(tid);
    auto& st = state_[pid];
    auto arg = [&](const char* k) -> std::string {
        auto it = p.args.find(k);
        return it == p.args.end() ? std::string() : it->second;
    };
    if (name == "set_fd_name_info") {
        std::uint32_t h = hex32(arg("handle"));
        auto r = record("filetracer", pid, tid, "NtSetInformationFile");
        bool link = arg("link") == "1";
        r["Operation"] = link ? "FileLinkInformation" : "FileRenameInformation";
        r["FileSrc"] = st.files.count(h) ? st.files[h] : "<UNKNOWN>";
        r["FileDst"] = string_value(arg("name"));
        r["FileHandle"] = format_hex(h);
        emit(std::move(r), pid);
        if (!link) {
            st.files[h] = string_value(arg("name"));
        }
        return;
    }
    if (name == "set_fd_disp_info") {
        std::uint32_t h = hex32(arg("handle"));
        if (arg("unlink") == "1") {
            auto r = record("filetracer", pid, tid, "NtSetInformationFile");
            r["Operation"] = "FileDispositionInformation";
            r["FileName"] = st.files.count(h) ? st.files[h] : "<UNKNOWN>";
            r["FileHandle"] = format_hex(h);
            emit(std::move(r), pid);
        }
        return;
    }
    if (name == "open_file_object") {
        auto r = record("filetracer", pid, tid, "NtOpenFile");
        r["FileName"] = string_value(arg("filename"));
        r["ObjectAttributes"] = object_attributes(hex32(arg("attributes")));
        emit(std::move(r), pid);
        pending_[tid] = std::move(p);
        return;
    }
    if (name == "set_key_value") {
        std::uint32_t h = hex32(arg("hkey"));
        auto r = record("regmon", pid, tid, "NtSetValueKey");
        r["Key"] = key_path(pid, h, "");
        std::string vn = string_value(arg("name"));
        r["ValueName"] = vn.empty() ? "(Default)" : vn;
        r["Value"] = reg_value(static_cast<std::uint32_t>(std::atoi(arg("type").c_str())),
                               data_bytes(arg("data")));
        emit(std::move(r), pid);
        return;
    }
    if (name == "delete_key" || name == "delete_key_value") {
        std::uint32_t h = hex32(arg("hkey"));
        auto r =
            record("regmon", pid, tid, name == "delete_key" ? "NtDeleteKey" : "NtDeleteValueKey");
        r["Key"] = key_path(pid, h, "");
        if (name == "delete_key") {
            r["ValueName"] = nullptr;
        } else {
            std::string vn = string_value(arg("name"));
            r["ValueName"] = vn.empty() ? "(Default)" : vn;
        }
        r["Value"] = nullptr;
        emit(std::move(r), pid);
        return;
    }
    if (name == "terminate_process") {
        std::uint32_t h = hex32(arg("handle"));
        auto code = static_cast<std::uint32_t>(std::strtoll(arg("exit_code").c_str(), nullptr, 10));
        auto r = record("procmon", pid, tid, "NtTerminateProcess");
        std::int64_t target = 0;
        if (h != 0 && h != kCurrentProcess) {
            auto it = st.procs.find(h);
            target = it == st.procs.end() ? 0 : it->second;
        }
        r["ExitPid"] = target;
        r["ExitStatus"] = format_hex(code);
        r["ExitStatusStr"] = ntstatus_name(code);
        emit(std::move(r), pid);
        return;
    }
    pending_[tid] = std::move(p);
}

void WineserverTrace::on_reply(std::uint32_t tid, const std::string& name,
                               const std::string& status, const std::string& results) {
    auto pit = pending_.find(tid);
    if (pit == pending_.end() || pit->second.request != name) {
        return;
    }
    Pending p = std::move(pit->second);
    pending_.erase(pit);
    auto res = parse_trace_args(results);
    auto arg = [&](const char* k) -> std::string {
        auto it = p.args.find(k);
        return it == p.args.end() ? std::string() : it->second;
    };
    auto result = [&](const char* k) -> std::string {
        auto it = res.find(k);
        return it == res.end() ? std::string() : it->second;
    };
    const bool ok = status == "0" || status == "OBJECT_NAME_EXISTS";
    std::int64_t pid = pid_of(tid);
    if (name == "init_first_thread") {
        if (!ok) {
            return;
        }
        std::int64_t new_pid = hex32(result("pid"));
        tid_pid_[tid] = new_pid;
        auto unix_pid = std::atoll(arg("unix_pid").c_str());
        // A process created by new_process gets startup info from its parent (info_size > 0);
        // one started from Unix has none.
        const bool from_unix =
            res.count("info_size") ? result("info_size") == "0" : created_.count(new_pid) == 0;
        if (!first_pid_ && from_unix && unix_started_ < options_.skip_unix_started) {
            // The engine's warm-up: neither it nor what it starts belongs to the sample.
            ++unix_started_;
            in_tree_[new_pid] = false;
            ProcessInfo info;
            info.pid = new_pid;
            info.sandbox_pid = unix_pid;
            processes_.upsert(info);
            return;
        }
        if (!first_pid_ && from_unix) {
            first_pid_ = new_pid;
            first_tid_ = hex32(result("tid"));
            in_tree_[new_pid] = true;
            live_.insert(new_pid);
            live_count_ = live_.size();
            sample_started_ = true;
            bitness_[new_pid] = options_.first_bitness;
            ProcessInfo info;
            info.pid = new_pid;
            info.process_name = options_.first_image;
            info.command_line = options_.first_command_line;
            info.sandbox_pid = unix_pid;
            processes_.upsert(info);
        } else if (!processes_.update(new_pid, [&](ProcessInfo& i) { i.sandbox_pid = unix_pid; })) {
            ProcessInfo info;
            info.pid = new_pid;
            info.sandbox_pid = unix_pid;
            processes_.upsert(info);
        }
        return;
    }
    if (name == "new_thread") {
        if (!ok) {
            return;
        }
        std::uint32_t h = hex32(arg("process"));
        if (auto held = held_creates_.find(tid);
            held != held_creates_.end() && held->second.process_handle == h) {
            held->second.record["NewThreadHandle"] = format_hex(hex32(result("handle")));
            held->second.record["NewTid"] = static_cast<std::int64_t>(hex32(result("tid")));
            release_held(tid);
        }
        std::int64_t target = pid;
        if (h != kCurrentProcess) {
            auto& procs = state_[pid].procs;
            auto it = procs.find(h);
            target = it == procs.end() ? 0 : it->second;
        }
        if (target != 0) {
            tid_pid_[hex32(result("tid"))] = target;
        }
        return;
    }
    auto& st = state_[pid];
    if (name == "new_process") {
        auto info_args =
            parse_trace_args(arg("info").size() >= 2 ? arg("info").substr(1, arg("info").size() - 2)
                                                     : std::string());
        auto info = [&](const char* k) {
            auto it = info_args.find(k);
            return it == info_args.end() ? std::string() : string_value(it->second);
        };
        std::int64_t new_pid = ok ? hex32(result("pid")) : 0;
        std::uint32_t handle = ok ? hex32(result("handle")) : 0;
        auto r = record("procmon", pid, tid, "NtCreateUserProcess");
        r["Status"] = ok ? "0x0" : "0xc0000001";
        r["NewProcessHandle"] = format_hex(handle);
        r["NewPid"] = new_pid;
        r["NewThreadHandle"] = "0x0";
        r["NewTid"] = 0;
        r["CommandLine"] = c_escape(info("cmdline"));
        r["ImagePathName"] = info("imagepath");
        r["DllPath"] = info("dllpath");
        r["CWD"] = info("curdir");
        int bits = 0;
        if (options_.image_bitness) {
            const auto creator = bitness_.find(pid);
            bits = options_.image_bitness(info("imagepath"),
                                          creator != bitness_.end() && creator->second == 32);
        }
        bits = bits == 32 ? 32 : 64;
        r["Bitness"] = bits;
        // With a warm-up, every process created after the sample started is reported, whoever
        // the creator (DRAKVUF's procmon sees the whole system): a service the sample installs
        // and starts runs under services.exe, not under the sample.
        const bool report = traced(pid) || (first_pid_ && options_.skip_unix_started > 0);
        if (report) {
            release_held(tid);
            if (ok) {
                held_creates_[tid] = HeldCreate{std::move(r), handle};
            } else {
                writer_.sink()(std::move(r));
                ++records_;
            }
        }
        if (ok) {
            st.procs[handle] = new_pid;
            bitness_[new_pid] = bits;
            created_.insert(new_pid);
            in_tree_[new_pid] = report;
            if (report) {
                live_.insert(new_pid);
                live_count_ = live_.size();
            }
            ProcessInfo pi;
            pi.pid = new_pid;
            pi.ppid = pid;
            pi.process_name = info("imagepath");
            pi.command_line = info("cmdline");
            processes_.upsert(pi);
        }
        return;
    }
    if (name == "create_file") {
        auto objattr = parse_trace_args(arg("objattr").size() >= 2
                                            ? arg("objattr").substr(1, arg("objattr").size() - 2)
                                            : std::string());
        std::string file = objattr.count("name") ? string_value(objattr["name"]) : "";
        if (file.empty()) {
            return;  // DRAKVUF prints nothing when the object name cannot be read
        }
        std::uint32_t handle = ok ? hex32(result("handle")) : 0;
        std::uint32_t options = hex32(arg("options"));
        auto r = record("filetracer", pid, tid, "NtCreateFile");
        r["FileName"] = file;
        r["FileHandle"] = format_hex(handle);
        r["ObjectAttributes"] =
            object_attributes(objattr.count("attributes") ? hex32(objattr["attributes"]) : 0);
        r["DesiredAccess"] = flags_string(hex32(arg("access")), kAccess);
        r["FileAttributes"] = flags_string(hex32(arg("attrs")), kAttrs);
        r["ShareAccess"] = flags_string(hex32(arg("sharing")), kShare);
        r["CreateDisposition"] = disposition(hex32(arg("create")));
        r["CreateOptions"] = flags_string(options, kOptions);
        r["Status"] = status == "0" ? "SUCCESS" : "FAIL";
        emit(std::move(r), pid);
        if (ok) {
            st.files[handle] = file;
            if (options & 0x1000) {
                // Wine implements DeleteFile as open with FILE_DELETE_ON_CLOSE.
                auto d = record("filetracer", pid, tid, "NtSetInformationFile");
                d["Operation"] = "FileDispositionInformation";
                d["FileName"] = file;
                d["FileHandle"] = format_hex(handle);
                emit(std::move(d), pid);
            }
        }
        return;
    }
    if (name == "open_file_object") {
        if (ok) {
            st.files[hex32(result("handle"))] = string_value(arg("filename"));
        }
        return;
    }
    if (name == "create_key" || name == "open_key") {
        std::string key;
        if (name == "create_key") {
            auto objattr = parse_trace_args(
                arg("objattr").size() >= 2 ? arg("objattr").substr(1, arg("objattr").size() - 2)
                                           : std::string());
            key = key_path(pid, objattr.count("rootdir") ? hex32(objattr["rootdir"]) : 0,
                           objattr.count("name") ? string_value(objattr["name"]) : "");
        } else {
            key = key_path(pid, hex32(arg("parent")), string_value(arg("name")));
        }
        if (ok) {
            st.keys[hex32(result("hkey"))] = key;
        }
        auto r = record("regmon", pid, tid, name == "create_key" ? "NtCreateKey" : "NtOpenKey");
        r["Key"] = key;
        r["ValueName"] = nullptr;
        r["Value"] = nullptr;
        emit(std::move(r), pid);
        return;
    }
}

}  // namespace engine::native
