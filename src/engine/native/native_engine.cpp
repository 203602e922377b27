// engine/native/native_engine.cpp — the native engine: Wine / ELF runs in the sandbox.
#include "engine/native/native_engine.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine/native/hooks_list.hpp"
#include "engine/native/memory_dumper.hpp"
#include "engine/native/netsim.hpp"
#include "engine/native/process_table.hpp"
#include "engine/native/guest_image.hpp"
#include "engine/native/quota_fs.hpp"
#include "engine/native/record_writer.hpp"
#include "engine/native/sandbox.hpp"
#include "engine/native/stale_sweep.hpp"
#include "engine/native/wine_debug_parser.hpp"
#include "engine/native/wine_prefix.hpp"
#include "engine/native/wineserver_trace.hpp"
#include "engine/sample_info.hpp"
#include "engine/start_command.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/logging.hpp"
#include "util/scope_exit.hpp"

namespace engine::native {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxTraceLine = 1 << 20;
const char* const kGuestDesktop = "C:\\users\\user\\Desktop\\";

void chown_sandbox(const fs::path& p) {
    if (::chown(p.c_str(), kSandboxUid, kSandboxGid) != 0) {
        util::throw_errno("chown " + p.string());
    }
}

// make_sandbox_dirs creates `rel` below `base` (each level owned by the sandbox user).
fs::path make_sandbox_dirs(const fs::path& base, const fs::path& rel) {
    fs::path cur = base;
    for (const auto& part : rel) {
        cur /= part;
        fs::create_directory(cur);
        ::chmod(cur.c_str(), 0755);
        chown_sandbox(cur);
    }
    return cur;
}

void copy_sample(const fs::path& from, const fs::path& to) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0755);
    chown_sandbox(to);
}

// LineReader reads one pipe to EOF on its own thread, calling `fn` per line (over-long lines
// are cut at kMaxTraceLine and their rest dropped).
class LineReader {
  public:
    LineReader(util::UniqueFd fd, std::function<void(const std::string&)> fn)
        : fd_(std::move(fd)), fn_(std::move(fn)), thread_([this] { run(); }) {}
    ~LineReader() { join(); }
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;
    void join() {
        if (thread_.joinable()) {
            thread_.join();
        }
    }

  private:
    void run() {
        std::string line;
        bool skipping = false;
        char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd_.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            for (ssize_t i = 0; i < n; ++i) {
                char c = buf[i];
                if (c == '\n') {
                    if (!skipping) {
                        deliver(line);
                    }
                    line.clear();
                    skipping = false;
                } else if (!skipping) {
                    line.push_back(c);
                    if (line.size() > kMaxTraceLine) {
                        deliver(line);
                        line.clear();
                        skipping = true;
                    }
                }
            }
        }
        if (!line.empty() && !skipping) {
            deliver(line);
        }
    }
    void deliver(const std::string& line) {
        try {
            fn_(line);
        } catch (const std::exception& e) {
            util::logger("engine")->warn("trace line dropped: {}", e.what());
        }
    }

    util::UniqueFd fd_;
    std::function<void(const std::string&)> fn_;
    std::thread thread_;
};

std::pair<util::UniqueFd, util::UniqueFd> make_pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        util::throw_errno("pipe2");
    }
    return {util::UniqueFd(p[0]), util::UniqueFd(p[1])};
}

// host_pid_of maps a pid inside the sandbox's PID namespace to the host pid by reading the
// NSpid line of every task in the sandbox's cgroup; 0 when not found.
std::int64_t host_pid_of(const Cgroup& cg, std::int64_t sandbox_pid) {
    for (pid_t p : cg.pids()) {
        std::ifstream f("/proc/" + std::to_string(p) + "/status");
        std::string line;
        while (std::getline(f, line)) {
            if (line.rfind("NSpid:", 0) == 0) {
                std::istringstream in(line.substr(6));
                std::int64_t host = 0, inner = 0, v = 0;
                in >> host;
                inner = host;
                while (in >> v) {
                    inner = v;
                }
                if (inner == sandbox_pid) {
                    return host;
                }
            }
        }
    }
    return 0;
}

// tls_records turns an NSS key log into tlsmon records (spec §2.8, §7.1).
void write_tls_records(const fs::path& keylog, RecordWriter& writer) {
    std::error_code ec;
    if (!fs::exists(keylog, ec) || fs::file_size(keylog, ec) > (64u << 20)) {
        return;
    }
    std::istringstream in(util::read_file(keylog));
    std::string line;
    auto is_hex = [](const std::string& s, std::size_t n) {
        return s.size() == n && s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    };
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string label, cr, mk;
        f >> label >> cr >> mk;
        if (label != "CLIENT_RANDOM" || !is_hex(cr, 64) || !is_hex(mk, 96)) {
            continue;
        }
        for (auto& c : cr) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        for (auto& c : mk) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        CommonFields common;
        common.method = "SslGenerateMasterKey";
        auto r = writer.make_record("tlsmon", common);
        r["client_random"] = cr;
        r["master_key"] = mk;
        writer.write(r);
    }
}

// report_quota writes a `sandbox` record (our own plugin, like netsim: sandbox.log after the
// split) when the sample filled its writable quota, and warns in the engine log.
void report_quota(const QuotaFs& quota, const std::string& what, RecordWriter& writer,
                  const ProgressFn& progress) {
    if (!quota.exhausted()) {
        return;
    }
    util::logger("engine")->warn("sample filled its writable quota ({} bytes, {}): ENOSPC",
                                 quota.size_bytes(), what);
    progress("collect", "writable quota exhausted (" + what + ")");
    CommonFields none;
    auto r = writer.make_record("sandbox", none);
    r["Event"] = "disk_quota_exhausted";
    r["Location"] = what;
    r["LimitBytes"] = quota.size_bytes();
    r["UsedBytes"] = quota.used_bytes();
    writer.write(r);
}

// plugin_enabled: an empty plugin list means "everything" (the engine's own default).
bool plugin_enabled(const AnalysisRequest& request, const std::string& plugin) {
    return request.plugins.empty() || std::find(request.plugins.begin(), request.plugins.end(),
                                                plugin) != request.plugins.end();
}

// record_plugin_enabled maps a record's "Plugin" to the DRAKVUF plugin that emits it
// (spec §12.2: syscalls -> syscall/sysret, filedelete -> fileextractor) and checks that the
// request enabled it. inject and our netsim records are always kept.
bool record_plugin_enabled(const std::vector<std::string>& plugins, const std::string& record) {
    if (plugins.empty() || record == "inject" || record == "netsim" || record == "sandbox") {
        return true;
    }
    std::string plugin = record;
    if (record == "syscall" || record == "sysret") {
        plugin = "syscalls";
    } else if (record == "fileextractor" || record == "fileextractor_fail") {
        plugin = "filedelete";
    }
    return std::find(plugins.begin(), plugins.end(), plugin) != plugins.end() ||
           (plugin == "filedelete" &&
            std::find(plugins.begin(), plugins.end(), "fileextractor") != plugins.end());
}

// finish_log writes <out>/drakmon.log: the inject record, the procmon records that introduce
// the sample's process (`creation`, so the process tree has the sample under its launcher as
// with DRAKVUF's injection into explorer.exe), then every record of the run whose plugin the
// request enabled.
void finish_log(const fs::path& out_dir, const fs::path& records, util::Clock& clock,
                const nlohmann::ordered_json& inject, const std::vector<std::string>& plugins,
                const std::vector<nlohmann::ordered_json>& creation = {}) {
    {
        RecordWriter final_log(out_dir / "drakmon.log", clock);
        final_log.write_inject(inject);
        if (record_plugin_enabled(plugins, "procmon")) {
            for (const auto& r : creation) {
                final_log.write(r);
            }
        }
    }
    std::ifstream in(records, std::ios::binary);
    std::ofstream out(out_dir / "drakmon.log", std::ios::binary | std::ios::app);
    std::string line;
    while (std::getline(in, line)) {
        auto rec = nlohmann::ordered_json::parse(line, nullptr, false);
        if (!rec.is_object() || !rec.contains("Plugin") || !rec["Plugin"].is_string() ||
            record_plugin_enabled(plugins, rec["Plugin"].get<std::string>())) {
            out << line << '\n';
        }
    }
    out.flush();
    if (!out) {
        throw EngineError("writing drakmon.log failed", true);
    }
}

std::string lower_ext(const std::string& name) {
    auto dot = name.rfind('.');
    std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    for (auto& c : ext) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return ext;
}

const char* const kWineScript = R"(ws=/usr/lib/wine/wineserver64
$ws -f $DRAK_SERVER_DEBUG -p2 2>&3 3>&- 4>&- &
# Debian's Wine puts the server dir in /run/user/<uid>, else a /tmp/wine-* dir named in
# $WINEPREFIX/wineserver; upstream uses /tmp/.wine-<uid>.
ready() {
  for s in /tmp/.wine-61000/server-*/socket /tmp/wine-*/server-*/socket \
           /run/user/61000/*/server-*/socket; do
    [ -S "$s" ] && return 0
  done
  return 1
}
n=0
while ! ready; do
  n=$((n+1))
  if [ $n -gt 400 ]; then
    echo "wineserver did not start" >&2; ls -la /tmp "$WINEPREFIX" >&2; exit 90
  fi
  sleep 0.025
done
exec 3>&-
cd "$WINEPREFIX/drive_c/users/user/Desktop"
# Warm-up: Wine's first process starts wineboot --init, which starts services.exe,
# winedevice, plugplay, svchost...; creating a window starts the explorer desktop. Done here,
# before the sample, none of it is the sample's child (the trace skips this Unix-started
# process and its descendants). Its client channels are off (stderr /dev/null, -all); the
# server keeps the infrastructure while the sample starts within its -p2 persistence.
if [ -n "$DRAK_WARMUP" ]; then
  WINEDEBUG=-all /usr/lib/wine/wine64 $DRAK_WARMUP </dev/null >/dev/null 2>&1
fi
# The loader of the sample's bitness: wine64 would start a 32-bit PE as a second process.
WINEDEBUG="$DRAK_WINEDEBUG" "$DRAK_WINE_LOADER" "$@" 2>&4
rc=$?
exec 4>&-
$ws -w
exit $rc
)";

}  // namespace

void validate_guest_file_name(const std::string& name) {
    if (name.empty() || name.size() > 200 || name == "." || name == "..") {
        throw EngineError("invalid sample file name: '" + name + "'", false);
    }
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == ':' || c == '"' || c == '%') {
            throw EngineError("invalid character in sample file name: '" + name + "'", false);
        }
    }
}

NativeEngine::NativeEngine(NativeEngineOptions options, util::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
    if (options_.sweep_on_start && ::geteuid() == 0) {
        sweep_stale_resources({options_.scratch_root});
    }
}

bool NativeEngine::supports_platform(const std::string& platform) const {
    if (platform == "linux") {
        return true;
    }
    if (platform == "win64") {
        return wine64_available();
    }
    if (platform == "win32") {
        return wine64_available() && wine32_available();
    }
    return false;
}

std::int64_t NativeEngine::prepare() {
    return ensure_golden_prefix(options_.golden_prefix, options_.scratch_root, clock_);
}

std::optional<fs::path> NativeEngine::hooks_list_for(const AnalysisRequest& request) const {
    if (request.custom_hooks) {
        return *request.custom_hooks;
    }
    if (!options_.hooks_file.empty()) {
        return options_.hooks_file;
    }
    // The packaged list: <prefix>/share/drakrun/hooks.txt next to <prefix>/bin (build tree and
    // installed package alike), then the system location.
    std::vector<fs::path> candidates;
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        candidates.push_back(self.parent_path().parent_path() / "share" / "drakrun" / "hooks.txt");
    }
    candidates.push_back("/usr/share/drakrun/hooks.txt");
    for (const auto& c : candidates) {
        if (fs::is_regular_file(c, ec)) {
            return c;
        }
    }
    util::logger("engine")->warn("no apimon hooks list found (set hooks_file): apimon disabled");
    return std::nullopt;
}

fs::path NativeEngine::find_tool(const std::string& name) const {
    std::vector<fs::path> candidates;
    if (!options_.tools_dir.empty()) {
        candidates.push_back(options_.tools_dir / name);
    }
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        candidates.push_back(self.parent_path() / name);
        candidates.push_back(self.parent_path().parent_path() / "bin" / name);
    }
    candidates.push_back(fs::path("/usr/lib/drakrun") / name);
    for (const auto& c : candidates) {
        if (::access(c.c_str(), X_OK) == 0) {
            return c;
        }
    }
    return {};
}

AnalysisResult NativeEngine::analyze(const AnalysisRequest& request, const ProgressFn& progress) {
    if (::geteuid() != 0) {
        throw EngineError("the native engine needs root (namespaces, mounts, cgroups)", false);
    }
    validate_guest_file_name(request.file_name);
    std::error_code ec;
    if (!fs::is_regular_file(request.sample_path, ec)) {
        throw EngineError("sample not found: " + request.sample_path.string(), false);
    }
    if (!fs::is_directory(request.output_dir, ec) || !fs::is_empty(request.output_dir, ec)) {
        throw EngineError("output dir must exist and be empty: " + request.output_dir.string(),
                          false);
    }
    if (request.timeout_s <= 0 || request.timeout_s > 24 * 3600) {
        throw EngineError("timeout out of range: " + std::to_string(request.timeout_s), false);
    }
    const ProgressFn report = progress ? progress : [](const std::string&, const std::string&) {};
    try {
        if (request.platform == "linux") {
            return run_elf(request, report);
        }
        if (request.platform == "win64" || request.platform == "win32") {
            return run_wine(request, report);
        }
    } catch (const EngineError&) {
        throw;
    } catch (const util::InputError& e) {
        throw EngineError(e.what(), false);
    } catch (const std::exception& e) {
        // Namespaces, cgroups, disk: another attempt may succeed.
        throw EngineError(std::string("native engine: ") + e.what(), true);
    }
    throw EngineError("unsupported platform: " + request.platform, false);
}

AnalysisResult NativeEngine::run_wine(const AnalysisRequest& request, const ProgressFn& progress) {
    if (!wine64_available()) {
        throw EngineError("wine64 is not installed (apt-get install wine64)", false);
    }
    if (request.platform == "win32" && !wine32_available()) {
        throw EngineError(
            "32-bit PE needs wine32: install wine32:i386 (scripts/setup.d/engine.sh; "
            "draksetup sanity explains)",
            false);
    }
    AnalysisResult result;
    progress("prepare", "golden Wine prefix");
    result.snapshot_version = prepare();

    const std::string name = new_resource_name();
    const fs::path scratch = options_.scratch_root / name;
    fs::create_directories(scratch);
    ::chmod(options_.scratch_root.c_str(), 0755);
    util::ScopeExit remove_scratch([&] {
        std::error_code rec;
        fs::remove_all(scratch, rec);
    });
    // The overlay's upper and work dirs live on the size-limited tmpfs (same filesystem, as
    // overlayfs requires); unmounted before the scratch dir is removed.
    QuotaFs quota(scratch / "rw", options_.writable_quota_bytes, options_.writable_quota_inodes);
    const fs::path upper = quota.dir() / "upper";
    const fs::path work = quota.dir() / "ovlwork";
    const fs::path keys = scratch / "keys";
    fs::create_directories(upper);
    fs::create_directories(work);
    fs::create_directories(keys);
    chown_sandbox(upper);
    chown_sandbox(keys);
    const fs::path desktop = make_sandbox_dirs(upper, "drive_c/users/user/Desktop");
    copy_sample(request.sample_path, desktop / request.file_name);
    const std::string guest_path = kGuestDesktop + request.file_name;

    std::vector<HookEntry> hooks;
    if (options_.tracing && plugin_enabled(request, "apimon")) {
        if (auto list = hooks_list_for(request)) {
            hooks = load_hooks_list(*list);
        }
    }
    std::string winedebug =
        options_.tracing ? "+pid,+timestamp,+process,+winsock,+virtual,+loaddll,+seh" : "-all";
    std::string relay = relay_include(hooks);
    if (!relay.empty()) {
        winedebug += ",+relay";
        // The overlay's upper user.reg replaces the golden one: copy it and add RelayInclude.
        std::string reg = util::read_file(options_.golden_prefix / "user.reg");
        nlohmann::json quoted = relay;
        reg += "\n[Software\\\\Wine\\\\Debug] 1700000000\n\"RelayInclude\"=" + quoted.dump() + "\n";
        util::write_file_atomic(upper / "user.reg", reg);
        chown_sandbox(upper / "user.reg");
    }

    // Command: the default for the extension, or the user's start command through cmd.exe.
    std::vector<std::string> wine_argv;
    if (request.start_command.empty()) {
        const std::string ext = lower_ext(request.file_name);
        const std::string entry =
            ext == "dll" ? dll_entry_point(inspect_sample_file(request.sample_path)) : "";
        wine_argv = start_argv(ext, guest_path, entry);
        result.start_command = join_windows_command_line(wine_argv);
    } else {
        result.start_command = expand_user_start_command(request.start_command, guest_path);
        wine_argv = {"C:\\windows\\system32\\cmd.exe", "/c", result.start_command};
    }

    RecordWriter records(scratch / "records.jsonl", clock_);
    ProcessTable processes;
    const fs::path dumps_dir = request.output_dir / "dumps";
    fs::create_directories(dumps_dir);
    MemoryDumperOptions dump_opts;
    dump_opts.next_event_uid = [&records] { return records.next_event_number(); };
    MemoryDumper dumper(dumps_dir, records.sink(), clock_, dump_opts);

    progress("network", "netsim");
    NetSim net(name, request.output_dir / "dumps.pcap", &records);

    SandboxSpec spec;
    spec.name = name;
    spec.scratch = scratch;
    spec.netns = net.sample_netns();
    spec.overlay = OverlayMount{options_.golden_prefix, upper, work, kGuestPrefix};
    spec.binds.push_back({keys, "/analysis/keys", true});
    // The warm-up program (unquoted in the script: no spaces or shell characters in it).
    const std::string warmup =
        options_.warm_up ? "C:\\windows\\system32\\rundll32.exe user32.dll,GetDesktopWindow" : "";
    spec.env = wine_environment(
        {options_.tracing ? "SSLKEYLOGFILE=/analysis/keys/sslkeys.log" : "DRAK_UNTRACED=1",
         "DRAK_WINEDEBUG=" + winedebug, "DRAK_WARMUP=" + warmup,
         std::string("DRAK_WINE_LOADER=") +
             (request.platform == "win32" ? "/usr/lib/wine/wine" : "/usr/lib/wine/wine64"),
         std::string("DRAK_SERVER_DEBUG=") + (options_.tracing ? "-d1" : "")});
    spec.cwd = "/home/user";
    spec.limits = options_.limits;

    WineserverTraceOptions trace_opts;
    trace_opts.first_image = wine_argv[0].find('\\') == std::string::npos
                                 ? "C:\\windows\\system32\\" + wine_argv[0]
                                 : wine_argv[0];
    trace_opts.first_command_line = result.start_command;
    trace_opts.skip_unix_started = options_.warm_up ? 1 : 0;
    trace_opts.first_bitness = request.platform == "win32" ? 32 : 64;
    // Set once the sandbox runs: the trace reads new processes' images through its root.
    std::atomic<pid_t> sandbox_pid1{0};
    trace_opts.image_bitness = [&sandbox_pid1](const std::string& image, bool creator_32) {
        const pid_t pid1 = sandbox_pid1.load();
        const auto path = guest_unix_path(image, kGuestPrefix, creator_32);
        if (pid1 <= 0 || !path) {
            return 0;
        }
        return guest_image_bitness("/proc/" + std::to_string(pid1) + "/root", *path);
    };
    WineserverTrace server_trace(records, processes, trace_opts);

    std::unique_ptr<SandboxProcess> proc;
    std::mutex pending_mu;
    struct PendingDump {
        ExecMemoryEvent event;
        std::chrono::steady_clock::time_point due;
    };
    std::vector<PendingDump> pending;
    auto dump_event = [&](const ExecMemoryEvent& e) {
        if (!proc || !e.process) {
            return;
        }
        std::int64_t host = e.process->host_pid;
        if (host == 0 && e.process->sandbox_pid != 0) {
            host = host_pid_of(proc->cgroup(), e.process->sandbox_pid);
        }
        if (host == 0) {
            return;
        }
        DumpRequest d;
        d.host_pid = host;
        d.address = e.address;
        d.size = e.size;
        d.method = e.method;
        d.pid = e.pid;
        d.ppid = e.process->ppid;
        d.tid = e.tid;
        d.user_id = 1;
        d.process_name = e.process->process_name;
        try {
            dumper.dump(d);
        } catch (const util::Error& err) {
            util::logger("engine")->warn("memory dump failed: {}", err.what());
        }
    };
    WineDebugParserOptions parser_opts;
    parser_opts.hooks = hooks;
    parser_opts.clock = &clock_;
    parser_opts.next_event_uid = [&records] { return records.next_event_number(); };
    parser_opts.on_exec_memory = [&](const ExecMemoryEvent& e) {
        std::lock_guard<std::mutex> lock(pending_mu);
        // Protection changes: the code is in place now; fresh allocations: wait for it.
        auto delay = e.method == "NtProtectVirtualMemory" ? std::chrono::milliseconds(0)
                                                          : std::chrono::milliseconds(500);
        pending.push_back({e, std::chrono::steady_clock::now() + delay});
    };
    WineDebugParser client_parser(records.sink(), processes, parser_opts);

    auto [server_r, server_w] = make_pipe();
    auto [client_r, client_w] = make_pipe();
    std::vector<std::string> argv = {"/bin/sh", "-c", kWineScript, "sh"};
    argv.insert(argv.end(), wine_argv.begin(), wine_argv.end());

    progress("run", "starting " + result.start_command);
    result.time_started = static_cast<std::int64_t>(clock_.now());
    util::UniqueFd run_log(
        ::open((scratch / "run.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!run_log) {
        util::throw_errno("open run.log");
    }
    proc = spawn_sandboxed(
        spec, argv,
        {{run_log.get(), 1}, {run_log.get(), 2}, {server_w.get(), 3}, {client_w.get(), 4}});
    sandbox_pid1 = proc->pid1_host_pid();
    server_w.reset();
    client_w.reset();
    int server_messages = 0;
    bool server_tracing = false;
    LineReader server_reader(std::move(server_r), [&](const std::string& l) {
        // Start-up errors of the server go to the engine log (bounded); later non-trace lines
        // are the server's own socket debugging.
        bool trace_line = l.size() >= 6 && l[4] == ':';
        server_tracing = server_tracing || trace_line;
        if (!trace_line && !server_tracing && server_messages < 20) {
            ++server_messages;
            util::logger("engine")->warn("wineserver: {}", l.substr(0, 500));
        }
        server_trace.feed_line(l);
    });
    LineReader client_reader(std::move(client_r),
                             [&](const std::string& l) { client_parser.feed_line(l); });

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(request.timeout_s);
    std::optional<std::chrono::steady_clock::time_point> tree_exited_since;
    ExitInfo exit;
    for (;;) {
        {
            std::vector<PendingDump> due;
            {
                std::lock_guard<std::mutex> lock(pending_mu);
                auto now = std::chrono::steady_clock::now();
                for (auto it = pending.begin(); it != pending.end();) {
                    if (it->due <= now) {
                        due.push_back(*it);
                        it = pending.erase(it);
                    } else {
                        ++it;
                    }
                }
            }
            for (const auto& d : due) {
                dump_event(d.event);
            }
        }
        if (auto e = proc->try_wait()) {
            exit = *e;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            progress("run", "timeout: killing the sandbox");
            exit = proc->wait(std::chrono::milliseconds(0));
            break;
        }
        if (options_.early_exit && options_.tracing && server_trace.sample_tree_exited()) {
            auto now = std::chrono::steady_clock::now();
            if (!tree_exited_since) {
                tree_exited_since = now;
            } else if (now - *tree_exited_since >= std::chrono::milliseconds(300)) {
                // Only Wine's own services are left (they would linger 2-3 s more).
                progress("run", "the sample's processes have exited: stopping Wine");
                exit = proc->wait(std::chrono::milliseconds(0));
                exit.timed_out = false;
                break;
            }
        } else {
            tree_exited_since.reset();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    server_reader.join();
    server_trace.finish();
    client_reader.join();
    client_parser.finish();
    net.stop();
    result.time_finished = static_cast<std::int64_t>(clock_.now());
    progress("collect", "exit " + std::to_string(exit.exit_code) +
                            (exit.timed_out ? " (timeout)" : "") +
                            (exit.oom_killed ? " (memory limit)" : ""));
    write_tls_records(keys / "sslkeys.log", records);
    report_quota(quota, "C: drive and registry (Wine overlay upper layer)", records, progress);

    nlohmann::ordered_json inject;
    inject["Plugin"] = "inject";
    inject["TimeStamp"] = format_timestamp(static_cast<double>(result.time_started));
    inject["Method"] = "CreateProc";
    std::string args;
    for (std::size_t i = 1; i < wine_argv.size(); ++i) {
        args += (i > 1 ? " " : "") + wine_argv[i];
    }
    auto first = server_trace.first_pid();
    if (first) {
        inject["Status"] = "Success";
        inject["ProcessName"] = wine_argv[0];
        inject["Arguments"] = args;
        inject["InjectedPid"] = *first;
        inject["InjectedTid"] = server_trace.first_tid();
        result.injected_pid = *first;
    } else if (!options_.tracing) {
        // Untraced (benchmark baseline): no server trace, so no Windows pid.
        inject["Status"] = "Success";
        inject["ProcessName"] = wine_argv[0];
        inject["Arguments"] = args;
        inject["InjectedPid"] = 0;
        inject["InjectedTid"] = 0;
    } else {
        inject["Status"] = "Error";
        inject["ErrorCode"] = 2;
        inject["Error"] = "ERROR_FILE_NOT_FOUND";
    }
    std::vector<nlohmann::ordered_json> creation;
    if (first) {
        // Wine has no explorer.exe: report the sample as started by one, like DRAKVUF's
        // injection does (Wine's own Windows pids start at 32, so 24 is free).
        constexpr std::int64_t kLauncherPid = 24;
        nlohmann::ordered_json running;
        running["Plugin"] = "procmon";
        running["TimeStamp"] = format_timestamp(static_cast<double>(result.time_started));
        running["PID"] = kLauncherPid;
        running["PPID"] = 0;
        running["RunningProcess"] = "C:\\windows\\explorer.exe";
        running["Bitness"] = 64;
        creation.push_back(running);
        CommonFields launcher;
        launcher.pid = kLauncherPid;
        launcher.ppid = 0;
        launcher.tid = kLauncherPid + 4;
        launcher.process_name = "C:\\windows\\explorer.exe";
        launcher.method = "NtCreateUserProcess";
        auto created = records.make_record("procmon", launcher);
        // Dated at the start of the run: the sample exists before anything it creates.
        created["TimeStamp"] = format_timestamp(static_cast<double>(result.time_started));
        created["Status"] = "0x0";
        created["NewProcessHandle"] = "0x4";
        created["NewPid"] = *first;
        created["NewThreadHandle"] = "0x8";
        created["NewTid"] = server_trace.first_tid();
        created["CommandLine"] = c_escape(result.start_command);
        created["ImagePathName"] = wine_argv[0];
        created["DllPath"] = "";
        created["CWD"] = kGuestDesktop;
        created["Bitness"] = request.platform == "win32" ? 32 : 64;
        creation.push_back(created);
    }
    finish_log(request.output_dir, scratch / "records.jsonl", clock_, inject, request.plugins,
               creation);
    if (!first && options_.tracing) {
        std::string log;
        try {
            log = util::read_file(scratch / "run.log");
        } catch (const util::Error&) {
        }
        if (log.size() > 2000) {
            log = log.substr(log.size() - 2000);
        }
        throw EngineError("the sample could not be started under Wine (exit " +
                              std::to_string(exit.exit_code) + "): " + log,
                          false);
    }
    return result;
}

AnalysisResult NativeEngine::run_elf(const AnalysisRequest& request, const ProgressFn& progress) {
    const fs::path tracer = find_tool("drak-trace-elf");
    if (tracer.empty()) {
        throw EngineError("drak-trace-elf not found (build it, or set tools_dir)", false);
    }
    AnalysisResult result;
    const std::string name = new_resource_name();
    const fs::path scratch = options_.scratch_root / name;
    fs::create_directories(scratch);
    ::chmod(options_.scratch_root.c_str(), 0755);
    util::ScopeExit remove_scratch([&] {
        std::error_code rec;
        fs::remove_all(scratch, rec);
    });
    QuotaFs quota(scratch / "rw", options_.writable_quota_bytes, options_.writable_quota_inodes);
    const fs::path home = quota.dir() / "home";
    // The tracer's output dir is writable by the sandbox user (the tracer runs as that user),
    // so the sample can write there too: it gets its own quota, separate from the home's so
    // that a sample filling its home cannot also cut the trace short.
    QuotaFs out_quota(scratch / "out", options_.trace_quota_bytes, 65536);
    const fs::path out = out_quota.dir();
    fs::create_directories(home);
    fs::create_directories(out / "dumps");
    chown_sandbox(home);
    chown_sandbox(out);
    chown_sandbox(out / "dumps");
    copy_sample(request.sample_path, home / request.file_name);
    const std::string guest_path = "/home/user/" + request.file_name;

    std::vector<std::string> argv = {
        "/opt/drak/drak-trace-elf", "--output",  "/analysis/out/trace.jsonl",       "--dumps-dir",
        "/analysis/out/dumps",      "--timeout", std::to_string(request.timeout_s), "--"};
    std::vector<std::string> sample_argv;
    if (request.start_command.empty()) {
        sample_argv = {guest_path};
        result.start_command = guest_path;
    } else {
        result.start_command = expand_user_start_command(request.start_command, guest_path);
        sample_argv = {"/bin/sh", "-c", result.start_command};
    }
    if (options_.tracing) {
        argv.insert(argv.end(), sample_argv.begin(), sample_argv.end());
    } else {
        // Untraced (benchmark baseline): a shell as pid 1 runs the sample as its child.
        argv = {"/bin/sh", "-c", "\"$@\"; exit $?", "sh"};
        argv.insert(argv.end(), sample_argv.begin(), sample_argv.end());
    }

    RecordWriter records(scratch / "records.jsonl", clock_);
    progress("network", "netsim");
    NetSim net(name, request.output_dir / "dumps.pcap", &records);
    SandboxSpec spec;
    spec.name = name;
    spec.scratch = scratch;
    spec.netns = net.sample_netns();
    spec.binds.push_back({tracer, "/opt/drak/drak-trace-elf", false});
    spec.binds.push_back({home, "/home/user", true});
    spec.binds.push_back({out, "/analysis/out", true});
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin",
                "HOME=/home/user",
                "USER=user",
                "LOGNAME=user",
                "LANG=C.UTF-8",
                "TERM=xterm"};
    spec.cwd = "/home/user";
    spec.limits = options_.limits;

    util::UniqueFd log(
        ::open((scratch / "tracer.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!log) {
        util::throw_errno("open tracer.log");
    }
    progress("run", "starting " + result.start_command);
    result.time_started = static_cast<std::int64_t>(clock_.now());
    auto proc = spawn_sandboxed(spec, argv, {{log.get(), 2}});
    auto exit = proc->wait(
        std::chrono::seconds(request.timeout_s + (options_.tracing ? options_.grace_s : 0)));
    net.stop();
    result.time_finished = static_cast<std::int64_t>(clock_.now());
    progress("collect", "tracer exit " + std::to_string(exit.exit_code) +
                            (exit.timed_out ? " (hard timeout)" : ""));
    if (options_.tracing && (exit.exit_code == 125 || exit.exit_code == 127)) {
        std::string err;
        try {
            err = util::read_file(scratch / "tracer.log");
        } catch (const util::Error&) {
        }
        if (err.size() > 2000) {
            err = err.substr(err.size() - 2000);
        }
        throw EngineError(
            "drak-trace-elf failed (exit " + std::to_string(exit.exit_code) + "): " + err,
            exit.exit_code == 125);
    }

    // The tracer's records (written inside the sandbox: parse, never trust the bytes).
    std::int64_t first_pid = 0;
    {
        std::ifstream in(out / "trace.jsonl", std::ios::binary);
        std::string line;
        std::size_t total = 0;
        while (std::getline(in, line) && total < (1ull << 31)) {
            total += line.size();
            auto rec = nlohmann::ordered_json::parse(line, nullptr, false);
            if (rec.is_discarded() || !rec.is_object() || !rec.contains("Plugin")) {
                continue;
            }
            if (first_pid == 0 && rec.contains("PID") && rec["PID"].is_number_integer()) {
                first_pid = rec["PID"].get<std::int64_t>();
            }
            records.write(rec);
        }
    }
    report_quota(quota, "/home/user", records, progress);
    report_quota(out_quota, "/analysis/out (trace and dumps)", records, progress);
    fs::create_directories(request.output_dir / "dumps");
    std::error_code dir_ec;
    for (const auto& e : fs::directory_iterator(out / "dumps", dir_ec)) {
        if (e.is_regular_file() && !e.is_symlink()) {
            fs::copy_file(e.path(), request.output_dir / "dumps" / e.path().filename(),
                          fs::copy_options::overwrite_existing);
        }
    }
    nlohmann::ordered_json inject;
    inject["Plugin"] = "inject";
    inject["TimeStamp"] = format_timestamp(static_cast<double>(result.time_started));
    inject["Method"] = "CreateProc";
    inject["Status"] = "Success";
    inject["ProcessName"] = sample_argv[0];
    std::string args;
    for (std::size_t i = 1; i < sample_argv.size(); ++i) {
        args += (i > 1 ? " " : "") + sample_argv[i];
    }
    inject["Arguments"] = args;
    inject["InjectedPid"] = first_pid;
    inject["InjectedTid"] = first_pid;
    result.injected_pid = first_pid;
    finish_log(request.output_dir, scratch / "records.jsonl", clock_, inject, request.plugins);
    return result;
}

std::vector<SanityCheck> NativeEngine::sanity() const {
    std::vector<SanityCheck> out;
    auto add = [&](const std::string& n, bool ok, const std::string& detail) {
        out.push_back({n, ok, detail});
    };
    add("root", ::geteuid() == 0, ::geteuid() == 0 ? "running as root" : "run drakrun as root");
    bool ns = true;
    for (const char* n : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
        ns = ns && fs::exists(fs::path("/proc/self/ns") / n);
    }
    add("namespaces", ns, ns ? "mnt, pid, ipc, uts, net, cgroup" : "kernel lacks namespaces");
    int cg = cgroup_version();
    add("cgroups", cg != 0,
        cg == 0 ? "mount cgroup v2 (memory, pids, cpu) or v1 memory/cpu/pids/freezer"
                : "cgroup v" + std::to_string(cg));
    std::string fsys;
    try {
        fsys = util::read_file("/proc/filesystems");
    } catch (const util::Error&) {
    }
    add("overlayfs", fsys.find("overlay") != std::string::npos,
        "needed for per-analysis copies of the Wine prefix (modprobe overlay)");
    add("iproute2", ::access("/usr/sbin/ip", X_OK) == 0 || ::access("/sbin/ip", X_OK) == 0,
        "apt-get install iproute2");
    add("iptables", ::access("/usr/sbin/iptables", X_OK) == 0, "apt-get install iptables");
    add("wine64", wine64_available(), "apt-get install wine64");
    add("wine32", wine32_available(),
        wine32_available() ? "32-bit PEs supported"
                           : "32-bit PEs fail: run scripts/setup.d/engine.sh (wine32:i386)");
    auto v = golden_prefix_version(options_.golden_prefix);
    add("wine-prefix", v.has_value(),
        v ? "golden prefix at " + options_.golden_prefix.string()
          : "missing: built on first use or by draksetup (" + options_.golden_prefix.string() +
                ")");
    fs::path t = find_tool("drak-trace-elf");
    add("drak-trace-elf", !t.empty(), t.empty() ? "build target drak-trace-elf" : t.string());
    return out;
}

}  // namespace engine::native
