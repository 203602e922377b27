// engine/xen/drakvuf_cmdline.cpp — argv builders, inject record parser, exit-code table.
#include "engine/xen/drakvuf_cmdline.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace engine::xen {

namespace {

std::uint64_t json_u64(const nlohmann::json& v, const std::string& what) {
    if (v.is_number_unsigned()) {
        return v.get<std::uint64_t>();
    }
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
        return static_cast<std::uint64_t>(v.get<std::int64_t>());
    }
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        std::size_t used = 0;
        try {
            std::uint64_t x = std::stoull(s, &used, 0);
            if (used == s.size() && !s.empty() && s[0] != '-') {
                return x;
            }
        } catch (const std::exception&) {
        }
    }
    throw util::InputError("runtime profile: " + what + " is not a non-negative integer");
}

}  // namespace

RuntimeProfile parse_runtime_profile(std::string_view json_text) {
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        throw util::InputError("runtime profile: not a JSON object");
    }
    RuntimeProfile p;
    if (!j.contains("inject_pid")) {
        throw util::InputError("runtime profile: missing inject_pid");
    }
    p.inject_pid = static_cast<std::int64_t>(json_u64(j["inject_pid"], "inject_pid"));
    if (j.contains("vmi_offsets") && j["vmi_offsets"].is_object() &&
        j["vmi_offsets"].contains("kpgd")) {
        p.kpgd = json_u64(j["vmi_offsets"]["kpgd"], "vmi_offsets.kpgd");
    } else if (j.contains("kpgd")) {
        p.kpgd = json_u64(j["kpgd"], "kpgd");
    } else {
        throw util::InputError("runtime profile: missing kpgd (vmi_offsets.kpgd)");
    }
    if (p.inject_pid <= 0 || p.inject_pid > 0xffffffffLL) {
        throw util::InputError("runtime profile: inject_pid out of range");
    }
    return p;
}

std::string hex_kpgd(std::uint64_t kpgd) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[kpgd & 0xf]);
        kpgd >>= 4;
    } while (kpgd != 0);
    return "0x" + s;
}

std::vector<std::string> drakvuf_argv(const DrakvufInvocation& inv) {
    std::vector<std::string> a{inv.drakvuf};
    std::vector<std::string> plugins = inv.plugins;
    std::sort(plugins.begin(), plugins.end());
    for (const auto& p : plugins) {
        a.insert(a.end(), {"-a", p});
    }
    const std::string out = inv.output_dir.string();
    a.insert(a.end(), {"-o", "json", "-F", "-j", "60", "-t", std::to_string(inv.timeout_s), "-i",
                       std::to_string(inv.runtime.inject_pid), "-k", hex_kpgd(inv.runtime.kpgd),
                       "-d", "vm-" + std::to_string(inv.vm_id)});
    a.insert(a.end(), {"--dll-hooks-list", inv.hooks_file.string()});
    a.insert(a.end(), {"--memdump-dir", out + "/dumps"});
    a.insert(a.end(), {"--ipt-dir", out + "/ipt", "--ipt-trace-user"});
    a.insert(a.end(), {"--codemon-dump-dir", out + "/ipt", "--codemon-log-everything",
                       "--codemon-analyse-system-dll-vad"});
    a.insert(a.end(), {"-r", (inv.profiles_dir / "kernel.json").string(), "-e", inv.start_command,
                       "-c", inv.cwd});
    if (inv.traps_ttl > 0) {
        a.insert(a.end(), {"--traps-ttl", std::to_string(inv.traps_ttl)});
    }
    static const std::pair<const char*, const char*> kProfiles[] = {
        {"--json-ntdll", "amd64_ntdll_profile"},
        {"--json-wow", "wow64_ntdll_profile"},
        {"--json-win32k", "amd64_win32k_profile"},
        {"--json-kernel32", "amd64_kernel32_profile"},
        {"--json-wow-kernel32", "wow64_kernel32_profile"},
        {"--json-tcpip", "amd64_tcpip_profile"},
        {"--json-sspicli", "amd64_sspicli_profile"},
        {"--json-kernelbase", "amd64_kernelbase_profile"},
        {"--json-iphlpapi", "amd64_iphlpapi_profile"},
        {"--json-mpr", "amd64_mpr_profile"},
        {"--json-clr", "x86_clr_profile"},
        {"--json-mscorwks", "x86_mscorwks_profile"},
    };
    for (const auto& [opt, name] : kProfiles) {
        auto p = inv.profiles_dir / (std::string(name) + ".json");
        std::error_code ec;
        if (std::filesystem::is_regular_file(p, ec)) {
            a.insert(a.end(), {opt, p.string()});
        }
    }
    if (inv.syscall_filter) {
        a.insert(a.end(), {"-S", inv.syscall_filter->string()});
    }
    return a;
}

namespace {

std::vector<std::string> injector_base(const InjectorCall& c, const char* method) {
    return {c.injector,
            "-o",
            "json",
            "-d",
            "vm-" + std::to_string(c.vm_id),
            "-r",
            c.kernel_profile.string(),
            "-i",
            std::to_string(c.runtime.inject_pid),
            "-k",
            hex_kpgd(c.runtime.kpgd),
            "-m",
            method};
}

}  // namespace

std::vector<std::string> injector_write_file_argv(const InjectorCall& call,
                                                  const std::string& guest_path,
                                                  const std::filesystem::path& host_path) {
    auto a = injector_base(call, "writefile");
    a.insert(a.end(), {"-e", guest_path, "-B", host_path.string()});
    return a;
}

std::vector<std::string> injector_createproc_argv(const InjectorCall& call,
                                                  const std::string& command) {
    auto a = injector_base(call, "createproc");
    a.insert(a.end(), {"-e", command, "-w"});
    return a;
}

std::optional<InjectRecord> parse_inject_record(std::string_view line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::nullopt;
    }
    auto str = [&](const char* k) -> std::string {
        auto it = j.find(k);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto num = [&](const char* k) -> std::int64_t {
        auto it = j.find(k);
        return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
    };
    if (str("Plugin") != "inject") {
        return std::nullopt;
    }
    InjectRecord r;
    r.method = str("Method");
    r.status = str("Status");
    r.process_name = str("ProcessName");
    r.arguments = str("Arguments");
    r.injected_pid = num("InjectedPid");
    r.injected_tid = num("InjectedTid");
    r.error_code = num("ErrorCode");
    r.error = str("Error");
    if (r.status.empty()) {
        return std::nullopt;
    }
    return r;
}

std::optional<InjectRecord> find_inject_record(std::string_view text, std::size_t max_lines) {
    std::size_t pos = 0;
    for (std::size_t n = 0; n < max_lines && pos < text.size(); ++n) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        if (auto r = parse_inject_record(text.substr(pos, end - pos))) {
            return r;
        }
        pos = end + 1;
    }
    return std::nullopt;
}

std::optional<InjectRecord> find_inject_record_in_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::string buf(1u << 20, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<std::size_t>(in.gcount()));
    return find_inject_record(buf);
}

DrakvufExit classify_drakvuf_exit(int code) {
    switch (code) {
        case 0:
            return {0, "SUCCESS", true, false};
        case 1:
            return {1, "FAIL", false, true};
        case 2:
            return {2, "INJECTION_TIMEOUT", false, true};
        case 3:
            return {3, "INJECTION_ERROR", false, true};
        case 4:
            return {4, "INJECTION_UNSUCCESSFUL", false, false};
        case 5:
            return {5, "WRITE_FILE_TIMEOUT", false, true};
        case 6:
            return {6, "WRITE_FILE_ERROR", false, true};
        case 7:
            return {7, "PLUGINS_STOP_TIMEOUT", false, true};
        case 10:
            return {10, "KERNEL_PANIC", false, true};
        case 11:
            return {11, "POWER_OFF", false, true};
        default:
            break;
    }
    if (code > 128 && code < 128 + 65) {
        return {code, "KILLED_BY_SIGNAL_" + std::to_string(code - 128), false, true};
    }
    return {code, "UNKNOWN_EXIT_" + std::to_string(code), false, true};
}

}  // namespace engine::xen
