// engine/xen/xen_engine.cpp — the Xen analysis cycle and its sanity checks.
#include "engine/xen/xen_engine.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <thread>

#include "engine/sample_info.hpp"
#include "engine/start_command.hpp"
#include "engine/xen/drakvuf_cmdline.hpp"
#include "engine/xen/network.hpp"
#include "engine/xen/process.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/logging.hpp"
#include "util/scope_exit.hpp"

namespace engine::xen {

namespace {

int parse_int(const std::string& key, const std::string& v, int lo, int hi) {
    char* end = nullptr;
    long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || end != v.c_str() + v.size() || x < lo || x > hi) {
        throw util::InputError("xen engine option " + key + ": expected an integer in " +
                               std::to_string(lo) + ".." + std::to_string(hi) +
                               ", got: " + v.substr(0, 64));
    }
    return static_cast<int>(x);
}

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string read_small(const std::filesystem::path& p, std::size_t cap) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        throw util::SystemError("cannot read " + p.string(), errno);
    }
    std::string s(cap + 1, '\0');
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    s.resize(static_cast<std::size_t>(in.gcount()));
    if (s.size() > cap) {
        throw util::InputError(p.string() + ": larger than " + std::to_string(cap) + " bytes");
    }
    return s;
}

std::optional<std::filesystem::path> find_in_path(const std::string& prog) {
    if (prog.find('/') != std::string::npos) {
        if (::access(prog.c_str(), X_OK) == 0) {
            return std::filesystem::path(prog);
        }
        return std::nullopt;
    }
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
    std::size_t pos = 0;
    while (pos <= p.size()) {
        std::size_t end = p.find(':', pos);
        if (end == std::string::npos) {
            end = p.size();
        }
        std::filesystem::path cand = std::filesystem::path(p.substr(pos, end - pos)) / prog;
        if (!cand.parent_path().empty() && ::access(cand.c_str(), X_OK) == 0) {
            return cand;
        }
        pos = end + 1;
    }
    return std::nullopt;
}

std::string extension_of(const std::string& name) {
    auto dot = name.rfind('.');
    if (dot == std::string::npos || dot + 1 == name.size()) {
        return "";
    }
    std::string ext = name.substr(dot + 1);
    for (auto& c : ext) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return ext;
}

std::string guest_dir(const std::string& guest_path) {
    auto slash = guest_path.rfind('\\');
    return slash == std::string::npos ? std::string() : guest_path.substr(0, slash);
}

std::string excerpt(const std::string& s) {
    return s.size() > 2000 ? s.substr(0, 2000) + "..." : s;
}

}  // namespace

XenEngineOptions parse_xen_options(const std::map<std::string, std::string>& kv) {
    XenEngineOptions o;
    for (const auto& [k, v] : kv) {
        if (k == "vm_id") {
            o.vm_id = parse_int(k, v, 1, 254);
        } else if (k == "snapshot_file") {
            o.snapshot_file = v;
        } else if (k == "profiles_dir") {
            o.profiles_dir = v;
        } else if (k == "runtime_file") {
            o.runtime_file = v;
        } else if (k == "hooks_file") {
            o.hooks_file = v;
        } else if (k == "syscall_filter") {
            o.syscall_filter = v;
        } else if (k == "domain_template") {
            o.domain_template = v;
        } else if (k == "work_dir") {
            o.work_dir = v;
        } else if (k == "storage") {
            o.storage.backend = v;
        } else if (k == "volumes_dir") {
            o.storage.volumes_dir = v;
        } else if (k == "lvm_volume_group") {
            o.storage.lvm_volume_group = v;
        } else if (k == "lvm_snapshot_size") {
            o.storage.lvm_snapshot_size = v;
        } else if (k == "zfs_dataset") {
            o.storage.zfs_dataset = v;
        } else if (k == "memory_mb") {
            o.memory_mb = parse_int(k, v, 256, 1 << 20);
        } else if (k == "vcpus") {
            o.vcpus = parse_int(k, v, 1, 128);
        } else if (k == "traps_ttl") {
            o.traps_ttl = parse_int(k, v, 0, 1 << 30);
        } else if (k == "out_interface") {
            o.out_interface = v;
        } else if (k == "drakvuf_grace_s") {
            o.drakvuf_grace = std::chrono::seconds(parse_int(k, v, 0, 86400));
        } else if (k == "log_stall_warning_s") {
            o.log_stall_warning = std::chrono::seconds(parse_int(k, v, 1, 86400));
        } else if (k.rfind("tool.", 0) == 0 && k.size() > 5) {
            o.tools[k.substr(5)] = v;
        } else {
            throw util::InputError("unknown xen engine option: " + k);
        }
    }
    return o;
}

std::int64_t snapshot_version(const std::filesystem::path& snapshot_file) {
    struct stat st {};
    if (::stat(snapshot_file.c_str(), &st) != 0) {
        throw util::SystemError("snapshot " + snapshot_file.string(), errno);
    }
    return static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

XenEngine::XenEngine(XenEngineOptions options) : o_(std::move(options)) {
    if (o_.vm_id < 1 || o_.vm_id > 254) {
        throw util::InputError("xen engine: vm_id must be 1..254");
    }
    if (o_.storage.volumes_dir.empty()) {
        o_.storage.volumes_dir = "/var/lib/drakrun/volumes";
    }
    if (o_.runtime_file.empty()) {
        o_.runtime_file = o_.profiles_dir / "runtime.json";
    }
    if (o_.snapshot_file.empty()) {
        o_.snapshot_file = o_.storage.volumes_dir / "snapshot.sav";
    }
    if (o_.work_dir.empty()) {
        o_.work_dir = "/tmp/drakrun/vm-" + std::to_string(o_.vm_id);
    }
    for (const auto& [k, v] : o_.tools) {
        o_.storage.tools.emplace(k, v);
    }
    make_storage_backend(o_.storage);  // validate early
}

std::string XenEngine::tool(const std::string& name) const {
    auto it = o_.tools.find(name);
    return it == o_.tools.end() ? name : it->second;
}

bool XenEngine::supports_platform(const std::string& platform) const {
    return platform == "win32" || platform == "win64";
}

AnalysisResult XenEngine::analyze(const AnalysisRequest& req, const ProgressFn& progress) {
    try {
        return analyze_impl(req, progress);
    } catch (const EngineError&) {
        throw;
    } catch (const util::InputError& e) {
        throw EngineError(std::string("xen engine: ") + e.what(), false);
    } catch (const std::exception& e) {
        throw EngineError(std::string("xen engine: ") + e.what(), true);
    }
}

AnalysisResult XenEngine::analyze_impl(const AnalysisRequest& req, const ProgressFn& progress_fn) {
    auto log = util::logger("engine");
    auto progress = [&](const std::string& stage, const std::string& msg) {
        log->info("xen vm-{}: {}: {}", o_.vm_id, stage, msg);
        if (progress_fn) {
            progress_fn(stage, msg);
        }
    };
    if (!supports_platform(req.platform)) {
        throw EngineError("xen engine: platform not supported: " + req.platform, false);
    }
    AnalysisResult result;
    // Configuration facts first: nothing is started when they are missing.
    try {
        result.snapshot_version = snapshot_version(o_.snapshot_file);
    } catch (const util::Error& e) {
        throw EngineError(
            std::string("xen engine: VM snapshot missing (run draksetup install): ") + e.what(),
            true);
    }
    RuntimeProfile runtime;
    try {
        runtime = parse_runtime_profile(read_small(o_.runtime_file, 1 << 20));
    } catch (const util::Error& e) {
        throw EngineError(std::string("xen engine: runtime profile: ") + e.what(), true);
    }
    std::error_code ec;
    std::filesystem::create_directories(o_.work_dir, ec);
    std::filesystem::create_directories(req.output_dir / "dumps", ec);
    std::filesystem::create_directories(req.output_dir / "ipt", ec);
    auto storage = make_storage_backend(o_.storage);

    // 1. Overlay disk (undone last).
    bool storage_made = false;
    util::ScopeExit storage_guard([&] {
        if (!storage_made) {
            return;
        }
        for (const auto& cmd : storage->cleanup_commands(o_.vm_id)) {
            try {
                auto r = run_tool(cmd, std::chrono::seconds(60));
                if (r.exit_code != 0) {
                    log->warn("storage cleanup {} failed: {}", join_argv(cmd), r.err);
                }
            } catch (const std::exception& e) {
                log->warn("storage cleanup {}: {}", join_argv(cmd), e.what());
            }
        }
    });
    progress("storage", "creating " + storage->name() + " overlay");
    storage_made = true;  // partial creation is cleaned up too
    for (const auto& cmd : storage->prepare_commands(o_.vm_id)) {
        auto r = run_tool(cmd, std::chrono::seconds(120));
        if (r.exit_code != 0 || r.timed_out) {
            throw EngineError("xen engine: storage overlay failed: " + join_argv(cmd) + ": " +
                                  excerpt(r.err + r.out),
                              true);
        }
    }

    // 2. Domain config from the template.
    DomainParams dp;
    dp.vm_id = o_.vm_id;
    dp.disk = storage->disk_spec(o_.vm_id);
    dp.bridge = bridge_name(o_.vm_id);
    dp.memory_mb = o_.memory_mb;
    dp.vcpus = o_.vcpus;
    dp.vnc_port = 5900 + o_.vm_id;
    dp.vnc_password = "drakvnc" + std::to_string(o_.vm_id);
    std::string templ = o_.domain_template ? read_small(*o_.domain_template, 1 << 16)
                                           : std::string(kDefaultDomainTemplate);
    const auto cfg_path = o_.work_dir / ("vm-" + std::to_string(o_.vm_id) + ".cfg");
    util::write_file_atomic(cfg_path, render_domain_config(templ, dp));

    // 3. Network (torn down before the overlay is removed).
    NetworkParams np;
    np.vm_id = o_.vm_id;
    np.net_enable = req.net_enable;
    np.out_interface = o_.out_interface;
    np.run_dir = o_.work_dir;
    np.tools = o_.tools;
    progress("network", std::string("bridge ") + bridge_name(o_.vm_id) +
                            (req.net_enable ? " with Internet" : " isolated"));
    std::unique_ptr<VmNetwork> network;
    try {
        network = std::make_unique<VmNetwork>(np);
    } catch (const util::InputError& e) {
        throw EngineError(std::string("xen engine: network: ") + e.what(), false);
    } catch (const util::Error& e) {
        throw EngineError(std::string("xen engine: network: ") + e.what(), true);
    }

    // 4. Restore; the domain is destroyed on every path after the attempt.
    const std::string xl = tool("xl");
    util::ScopeExit domain_guard([&] {
        try {
            auto r = run_tool(xl_destroy_argv(xl, o_.vm_id), std::chrono::seconds(60));
            if (r.exit_code != 0) {
                log->info("xl destroy vm-{}: exit {} (domain may not exist): {}", o_.vm_id,
                          r.exit_code, r.err);
            }
        } catch (const std::exception& e) {
            log->warn("xl destroy vm-{}: {}", o_.vm_id, e.what());
        }
    });
    progress("restore", "xl restore " + o_.snapshot_file.string());
    {
        auto r = run_tool(xl_restore_argv(xl, cfg_path, o_.snapshot_file), o_.restore_limit);
        if (r.exit_code != 0 || r.timed_out) {
            throw EngineError("xen engine: VM restore failed (exit " + std::to_string(r.exit_code) +
                                  (r.timed_out ? ", timed out" : "") +
                                  "): " + excerpt(r.err + r.out),
                              true);
        }
    }
    std::string domid;
    {
        auto r = run_tool(xl_domid_argv(xl, o_.vm_id), std::chrono::seconds(30));
        domid = r.out.substr(0, r.out.find_first_of("\r\n"));
        if (r.exit_code != 0 || domid.empty() ||
            domid.find_first_not_of("0123456789") != std::string::npos) {
            throw EngineError("xen engine: cannot get the domain id of vm-" +
                                  std::to_string(o_.vm_id) + ": " + excerpt(r.err + r.out),
                              true);
        }
    }

    // 5. Copy the sample into the guest (§5 step 1).
    InjectorCall ic;
    ic.injector = tool("injector");
    ic.vm_id = o_.vm_id;
    ic.kernel_profile = o_.profiles_dir / "kernel.json";
    ic.runtime = runtime;
    progress("copy", "injector writefile " + req.file_name);
    std::string guest_path;
    {
        auto argv = injector_write_file_argv(ic, "%USERPROFILE%\\Desktop\\" + req.file_name,
                                             req.sample_path);
        auto r = run_tool(argv, o_.injector_limit);
        auto rec = find_inject_record(r.out);
        if (r.timed_out) {
            throw EngineError("xen engine: copying the sample into the guest timed out", true);
        }
        if (r.exit_code != 0 || !rec || rec->status != "Success" || rec->process_name.empty()) {
            std::string why = rec ? rec->status + (rec->error.empty() ? "" : " " + rec->error)
                                  : "no inject record (exit " + std::to_string(r.exit_code) + ")";
            throw EngineError("xen engine: copying the sample into the guest failed: " + why, true);
        }
        guest_path = rec->process_name;
    }

    // 6. Post-restore commands: renew the DHCP lease when the guest may talk to the Internet.
    if (req.net_enable) {
        for (const char* cmd : {"cmd /C ipconfig /release >nul", "cmd /C ipconfig /renew >nul"}) {
            bool done = false;
            for (int attempt = 1; attempt <= 3 && !done; ++attempt) {
                auto r = run_tool(injector_createproc_argv(ic, cmd), o_.net_command_limit);
                auto rec = find_inject_record(r.out);
                done = !r.timed_out && r.exit_code == 0 && rec && rec->status == "Success";
                if (!done) {
                    log->warn("{} attempt {} failed", cmd, attempt);
                }
            }
            if (!done) {
                throw EngineError(std::string("xen engine: post-restore command failed: ") + cmd,
                                  true);
            }
        }
    }

    // 7. Start command (§11.3).
    const std::string ext = extension_of(req.file_name);
    if (req.start_command.empty()) {
        std::string entry;
        if (ext == "dll") {
            entry = dll_entry_point(inspect_sample_file(req.sample_path));
        }
        result.start_command = default_start_command(req.platform, ext, guest_path, entry);
    } else {
        result.start_command = expand_user_start_command(req.start_command, guest_path);
    }

    // 8. tcpdump + drakvuf with the watchdog.
    DrakvufInvocation inv;
    inv.drakvuf = tool("drakvuf");
    inv.plugins = req.plugins;
    inv.timeout_s = req.timeout_s;
    inv.runtime = runtime;
    inv.vm_id = o_.vm_id;
    inv.hooks_file = req.custom_hooks ? *req.custom_hooks : o_.hooks_file;
    inv.output_dir = req.output_dir;
    inv.profiles_dir = o_.profiles_dir;
    inv.start_command = result.start_command;
    inv.cwd = guest_dir(guest_path);
    inv.traps_ttl = o_.traps_ttl;
    inv.syscall_filter = o_.syscall_filter;
    const auto drakmon = req.output_dir / "drakmon.log";
    util::UniqueFd log_fd(::open(drakmon.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    util::UniqueFd err_fd(::open((req.output_dir / "drakvuf.stderr.log").c_str(),
                                 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!log_fd || !err_fd) {
        throw EngineError("xen engine: cannot create drakmon.log in " + req.output_dir.string(),
                          true);
    }
    Child tcpdump = Child::spawn({tool("tcpdump"), "-i", "vif" + domid + ".0-emu", "-w",
                                  (req.output_dir / "dumps.pcap").string()});
    util::ScopeExit tcpdump_guard([&] { tcpdump.stop(std::chrono::seconds(5)); });
    // Capture must be running before drakvuf starts: tcpdump creates the -w file once the
    // interface is open.
    const auto pcap = req.output_dir / "dumps.pcap";
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
         !std::filesystem::exists(pcap, ec) && std::chrono::steady_clock::now() < until;) {
        if (auto code = tcpdump.wait_for(std::chrono::milliseconds(20))) {
            throw EngineError(
                "xen engine: tcpdump exited at start (exit " + std::to_string(*code) + ")", true);
        }
    }

    progress("drakvuf", "starting: " + join_argv(drakvuf_argv(inv)));
    result.time_started = now_s();
    Child drakvuf = Child::spawn(drakvuf_argv(inv), log_fd.get(), err_fd.get());
    log_fd.reset();
    err_fd.reset();
    const auto started = std::chrono::steady_clock::now();
    const auto hard_limit = std::chrono::seconds(req.timeout_s) + o_.drakvuf_grace;
    std::uintmax_t last_size = 0;
    auto last_growth = started;
    bool stall_warned = false;
    bool hung = false;
    std::optional<int> code;
    while (!(code = drakvuf.wait_for(std::chrono::milliseconds(100)))) {
        const auto now = std::chrono::steady_clock::now();
        std::uintmax_t size = std::filesystem::file_size(drakmon, ec);
        if (!ec && size != last_size) {
            last_size = size;
            last_growth = now;
            stall_warned = false;
        } else if (!stall_warned && now - last_growth >= o_.log_stall_warning) {
            stall_warned = true;
            auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - last_growth).count();
            log->warn("xen vm-{}: drakmon.log has not grown for {} s", o_.vm_id, secs);
            if (progress_fn) {
                progress_fn("watchdog",
                            "drakmon.log has not grown for " + std::to_string(secs) + " s");
            }
        }
        if (now - started >= hard_limit) {
            hung = true;
            drakvuf.signal_group(SIGKILL);
            code = drakvuf.wait_for(std::chrono::seconds(10));
            break;
        }
    }
    result.time_finished = now_s();
    tcpdump_guard.cancel();
    tcpdump.stop(std::chrono::seconds(5));

    auto inject = find_inject_record_in_file(drakmon);
    if (inject && inject->status == "Success") {
        result.injected_pid = inject->injected_pid;
    }
    if (hung) {
        throw EngineError(
            "xen engine: drakvuf hung; killed after " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(hard_limit).count()) +
                " s (timeout + grace)",
            true);
    }
    const DrakvufExit ex = classify_drakvuf_exit(code.value_or(-1));
    if (ex.code == 4) {
        std::string err = inject && !inject->error.empty() ? inject->error : "<UNKNOWN>";
        throw EngineError("Injection succeeded but sample startup failed with error: " + err,
                          false);
    }
    if (!ex.ok) {
        std::string stderr_tail;
        try {
            stderr_tail = read_small(req.output_dir / "drakvuf.stderr.log", 1 << 20);
        } catch (const std::exception&) {
        }
        if (stderr_tail.size() > 2000) {
            stderr_tail = stderr_tail.substr(stderr_tail.size() - 2000);
        }
        throw EngineError("xen engine: drakvuf failed: " + ex.name + " (exit " +
                              std::to_string(ex.code) + ")" +
                              (stderr_tail.empty() ? "" : ": " + stderr_tail),
                          ex.retryable);
    }
    progress("done", "drakvuf finished");
    return result;
}

std::vector<SanityCheck> XenEngine::sanity() const {
    std::vector<SanityCheck> out;
    std::error_code ec;
    {
        SanityCheck c{"xen hypervisor", false, ""};
        std::string type;
        try {
            type = read_small("/sys/hypervisor/type", 64);
        } catch (const std::exception&) {
        }
        while (!type.empty() && (type.back() == '\n' || type.back() == ' ')) {
            type.pop_back();
        }
        bool proc_xen = std::filesystem::exists("/proc/xen", ec);
        if (type == "xen" && proc_xen) {
            c.ok = true;
            c.detail = "running as a Xen domain (/sys/hypervisor/type = xen, /proc/xen present)";
        } else {
            c.detail = "this host is not running under Xen (" +
                       (type.empty() ? std::string("/sys/hypervisor/type absent")
                                     : "/sys/hypervisor/type = " + type) +
                       (proc_xen ? "" : ", /proc/xen absent") +
                       "): install xen-hypervisor (apt install xen-system-amd64), boot the Xen "
                       "GRUB entry with "
                       "dom0_mem set, and enable altp2m; the xen engine cannot run here";
        }
        out.push_back(c);
    }
    const std::vector<std::pair<std::string, std::string>> tools = {
        {"xl", "Xen toolstack (package xen-utils)"},
        {"drakvuf", "DRAKVUF (drakvuf-bundle .deb from the DRAKVUF releases)"},
        {"injector", "DRAKVUF injector (drakvuf-bundle .deb)"},
        {"tcpdump", "package tcpdump"},
        {"dnsmasq", "package dnsmasq"},
        {"iptables", "package iptables"},
        {"ip", "package iproute2"},
    };
    std::vector<std::pair<std::string, std::string>> all = tools;
    for (const auto& t : make_storage_backend(o_.storage)->required_tools()) {
        all.emplace_back(t, "storage backend " + o_.storage.backend);
    }
    for (const auto& [name, hint] : all) {
        auto it = o_.tools.find(name);
        std::string prog = it == o_.tools.end() ? name : it->second;
        auto found = find_in_path(prog);
        out.push_back(
            {"tool " + name, found.has_value(),
             found ? "found at " + found->string() : prog + " not found in PATH: install " + hint});
    }
    {
        SanityCheck c{"xl info", false, ""};
        try {
            auto r = run_tool({tool("xl"), "info"}, std::chrono::seconds(20));
            c.ok = r.exit_code == 0;
            c.detail = c.ok ? "toolstack answers"
                            : "xl info failed (exit " + std::to_string(r.exit_code) +
                                  "): " + excerpt(r.err);
        } catch (const std::exception& e) {
            c.detail = std::string("cannot run xl: ") + e.what();
        }
        out.push_back(c);
    }
    auto file_check = [&](const std::string& name, const std::filesystem::path& p,
                          const std::string& fix) {
        bool ok = !p.empty() && std::filesystem::is_regular_file(p, ec);
        out.push_back({name, ok,
                       ok ? p.string()
                          : (p.empty() ? "not configured" : p.string() + " missing") + ": " + fix});
    };
    file_check("vm snapshot", o_.snapshot_file, "run draksetup install and draksetup postinstall");
    file_check("kernel profile", o_.profiles_dir / "kernel.json",
               "draksetup postinstall generates profiles");
    file_check("runtime profile", o_.runtime_file, "draksetup postinstall writes runtime.json");
    file_check("hooks file", o_.hooks_file, "install the default hooks.txt");
    return out;
}

}  // namespace engine::xen
