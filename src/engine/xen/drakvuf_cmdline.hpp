// engine/xen/drakvuf_cmdline.hpp — the exact argv the sandbox gives drakvuf and injector, the
// inject record parser and the drakvuf exit-code table. Spec drakvuf-output.md §3 (inject
// record), §4.2 (DS 0.19a1 command line), §4.3 (exit codes), §5 (injector).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engine::xen {

// RuntimeProfile: per-snapshot VMI facts (DS runtime.json): the process hijacked for
// injection (explorer.exe) and the kernel page directory.
struct RuntimeProfile {
    std::int64_t inject_pid = 0;
    std::uint64_t kpgd = 0;
};

// parse_runtime_profile reads {"inject_pid": N, "vmi_offsets": {"kpgd": N}} (DS layout) or a
// flat {"inject_pid": N, "kpgd": N|"0x.."}. Throws util::InputError on anything else.
RuntimeProfile parse_runtime_profile(std::string_view json_text);

// DrakvufInvocation: everything that goes into the §4.2 command line.
struct DrakvufInvocation {
    std::string drakvuf = "drakvuf";                      // program (path or PATH name)
    std::vector<std::string> plugins;                     // sorted alphabetically in the argv
    int timeout_s = 600;                                  // -t
    RuntimeProfile runtime;                               // -i, -k
    int vm_id = 1;                                        // -d vm-<N>
    std::filesystem::path hooks_file;                     // --dll-hooks-list
    std::filesystem::path output_dir;                     // <out>: dumps/ and ipt/ below it
    std::filesystem::path profiles_dir;                   // kernel.json and optional <name>.json
    std::string start_command;                            // -e
    std::string cwd;                                      // -c (guest directory of the sample)
    int traps_ttl = 0;                                    // --traps-ttl only when > 0
    std::optional<std::filesystem::path> syscall_filter;  // -S
};

// hex_kpgd renders the KPGD like Python hex(): "0x1aa002".
std::string hex_kpgd(std::uint64_t kpgd);

// drakvuf_argv builds the DS 0.19a1 argv of §4.2 exactly (profile options only for profile
// files that exist in profiles_dir, in the spec's order).
std::vector<std::string> drakvuf_argv(const DrakvufInvocation& inv);

// InjectorCall: common part of every injector command line (§5).
struct InjectorCall {
    std::string injector = "injector";
    int vm_id = 1;
    std::filesystem::path kernel_profile;  // <profiles>/kernel.json
    RuntimeProfile runtime;
};

// injector_write_file_argv: copy `host_path` into the guest at `guest_path` (-m writefile).
std::vector<std::string> injector_write_file_argv(const InjectorCall& call,
                                                  const std::string& guest_path,
                                                  const std::filesystem::path& host_path);

// injector_createproc_argv: run `command` in the guest and wait for it (-m createproc -w).
std::vector<std::string> injector_createproc_argv(const InjectorCall& call,
                                                  const std::string& command);

// InjectRecord: a parsed §3 inject record.
struct InjectRecord {
    std::string method;
    std::string status;  // Success, Error, Timeout, Crash, PrematureBreak, InitFail
    std::string process_name;
    std::string arguments;
    std::int64_t injected_pid = 0;
    std::int64_t injected_tid = 0;
    std::int64_t error_code = 0;
    std::string error;  // Windows error symbol when status == "Error"
};

// parse_inject_record parses one line; nullopt when the line is not an inject record (other
// plugin, banner text, broken JSON). Never throws.
std::optional<InjectRecord> parse_inject_record(std::string_view line);

// find_inject_record returns the first inject record among the first `max_lines` lines of
// `text` (drakmon.log or injector stdout).
std::optional<InjectRecord> find_inject_record(std::string_view text, std::size_t max_lines = 64);

// find_inject_record_in_file reads at most the first 1 MiB of `path` and searches it.
std::optional<InjectRecord> find_inject_record_in_file(const std::filesystem::path& path);

// DrakvufExit: the §4.3 table. `name` is the upstream constant, `retryable` the sandbox's
// reaction (everything except INJECTION_UNSUCCESSFUL is a failed attempt that may be retried).
struct DrakvufExit {
    int code = 0;
    std::string name;
    bool ok = false;
    bool retryable = true;
};

// classify_drakvuf_exit maps an exit code (128+signal for signals) to the table.
DrakvufExit classify_drakvuf_exit(int code);

}  // namespace engine::xen
