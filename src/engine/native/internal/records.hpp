// engine/native/internal/records.hpp — small helpers the native monitors share to build
// DRAKVUF typed-printer records: TimeStamp and hex encodings (spec drakvuf-output.md §1.2),
// the common-field prefix in current key order (§1.3) and Windows protection names (§2.1).
// Header-only (src/engine/CMakeLists.txt does not glob native/internal/*.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace engine::native::internal {

// format_timestamp renders Unix seconds as "<seconds>.<6 digits>" (§1.2 TimeStamp).
inline std::string format_timestamp(double unix_seconds);

// hex renders a number as DRAKVUF's hex string: "0x" + lower-case digits, no padding.
inline std::string hex(std::uint64_t value);

// CommonFields are the trap-context fields of §1.3 (current order, no UserName).
struct CommonFields {
    double time = 0;
    std::int64_t pid = 0;
    std::int64_t ppid = 0;
    std::int64_t tid = 0;
    std::int64_t user_id = 0;
    std::string process_name;
    std::optional<std::string> method;  // nullopt prints "Method":null
    std::uint64_t event_uid = 0;
};

// make_record starts a record: Plugin, TimeStamp, PID, PPID, TID, UserId, ProcessName, Method,
// EventUID; callers append plugin fields in spec order.
inline nlohmann::ordered_json make_record(std::string_view plugin, const CommonFields& common);

// win32_protection renders PAGE_* flags joined by ";" ("NONE" for 0, unknown bits as hex).
inline std::string win32_protection(std::uint32_t protect);

// c_escape applies procmon's CommandLine pre-escaping (§2.1): \ and " escaped, control
// characters as \n \t \r or octal, bytes >= 0x7f as 3-digit octal.
inline std::string c_escape(std::string_view text);

// json_c_spaced renders a flat object the way json-c's spaced printer does (§6.1 sidecar):
// `{ "k": v, ... }` with "/" escaped as "\/".
inline std::string json_c_spaced(const nlohmann::ordered_json& object);

// ---- definitions ----

inline std::string format_timestamp(double unix_seconds) {
    if (!std::isfinite(unix_seconds) || unix_seconds < 0) {
        unix_seconds = 0;
    }
    auto micros = static_cast<std::uint64_t>(std::llround(unix_seconds * 1e6));
    char buf[48];
    std::snprintf(buf, sizeof buf, "%llu.%06llu", static_cast<unsigned long long>(micros / 1000000),
                  static_cast<unsigned long long>(micros % 1000000));
    return buf;
}

inline std::string hex(std::uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

inline nlohmann::ordered_json make_record(std::string_view plugin, const CommonFields& c) {
    nlohmann::ordered_json r;
    r["Plugin"] = std::string(plugin);
    r["TimeStamp"] = format_timestamp(c.time);
    r["PID"] = c.pid;
    r["PPID"] = c.ppid;
    r["TID"] = c.tid;
    r["UserId"] = c.user_id;
    r["ProcessName"] = c.process_name;
    r["Method"] = c.method ? nlohmann::ordered_json(*c.method) : nlohmann::ordered_json(nullptr);
    r["EventUID"] = hex(c.event_uid);
    return r;
}

inline std::string win32_protection(std::uint32_t protect) {
    if (protect == 0) {
        return "NONE";
    }
    static const std::pair<std::uint32_t, const char*> kFlags[] = {
        {0x01, "PAGE_NOACCESS"},
        {0x02, "PAGE_READONLY"},
        {0x04, "PAGE_READWRITE"},
        {0x08, "PAGE_WRITECOPY"},
        {0x10, "PAGE_EXECUTE"},
        {0x20, "PAGE_EXECUTE_READ"},
        {0x40, "PAGE_EXECUTE_READWRITE"},
        {0x80, "PAGE_EXECUTE_WRITECOPY"},
        {0x100, "PAGE_GUARD"},
        {0x200, "PAGE_NOCACHE"},
        {0x400, "PAGE_WRITECOMBINE"},
    };
    std::string out;
    std::uint32_t rest = protect;
    for (const auto& [bit, name] : kFlags) {
        if ((protect & bit) != 0) {
            if (!out.empty()) {
                out += ';';
            }
            out += name;
            rest &= ~bit;
        }
    }
    if (rest != 0) {
        if (!out.empty()) {
            out += ';';
        }
        out += hex(rest);
    }
    return out;
}

inline std::string c_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char ch : text) {
        switch (ch) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (ch < 0x20 || ch >= 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\%03o", ch);
                    out += buf;
                } else {
                    out += static_cast<char>(ch);
                }
        }
    }
    return out;
}

inline std::string json_c_spaced(const nlohmann::ordered_json& object) {
    std::string out = "{ ";
    bool first = true;
    for (const auto& [key, value] : object.items()) {
        if (!first) {
            out += ", ";
        }
        first = false;
        out += nlohmann::ordered_json(key).dump() + ": ";
        std::string v =
            value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        if (value.is_string()) {
            std::string escaped;
            for (char ch : v) {
                if (ch == '/') {
                    escaped += "\\/";
                } else {
                    escaped += ch;
                }
            }
            v = std::move(escaped);
        }
        out += v;
    }
    out += " }";
    return out;
}

}  // namespace engine::native::internal
