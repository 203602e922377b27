// engine/xen/xen_engine.hpp — XenEngine: runs a sample under DRAKVUF on Xen (issue 9): overlay
// disk + domain config, xl restore, per-instance network, injector copy, drakvuf with the
// §4.2 command line, tcpdump, watchdog, teardown on every path. Spec drakvuf-output.md §3-§7.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/xen/vm.hpp"

namespace engine::xen {

// XenEngineOptions: configuration of one instance (vm-<vm_id>).
struct XenEngineOptions {
    int vm_id = 1;
    // Program overrides: "xl", "injector", "drakvuf", "tcpdump", "dnsmasq", "iptables", "ip",
    // "qemu-img", "lvcreate", "lvremove", "zfs", "rm"; absent = looked up in PATH by name.
    std::map<std::string, std::string> tools;
    std::filesystem::path snapshot_file;  // xl save image (default <volumes>/snapshot.sav)
    std::filesystem::path profiles_dir;   // kernel.json + optional per-DLL profiles
    std::filesystem::path runtime_file;   // runtime.json (inject_pid, vmi_offsets.kpgd)
    std::filesystem::path hooks_file;     // default --dll-hooks-list
    std::optional<std::filesystem::path> syscall_filter;   // -S
    std::optional<std::filesystem::path> domain_template;  // else kDefaultDomainTemplate
    std::filesystem::path work_dir;  // per-instance scratch (config, stderr, dnsmasq files)
    StorageOptions storage;          // volumes_dir defaults to /var/lib/drakrun/volumes
    int memory_mb = 4096;
    int vcpus = 2;
    int traps_ttl = 0;                                    // anti_hammering_threshold
    std::string out_interface;                            // uplink for net_enable
    std::chrono::milliseconds drakvuf_grace{60000};       // kill after timeout + grace (§4.2)
    std::chrono::milliseconds log_stall_warning{30000};   // warn when drakmon.log stops growing
    std::chrono::milliseconds injector_limit{60000};      // writefile limit (§5)
    std::chrono::milliseconds net_command_limit{120000};  // ipconfig release/renew (§5)
    std::chrono::milliseconds restore_limit{300000};
};

// parse_xen_options builds options from flat config keys (engine_factory EngineOptions):
// vm_id, snapshot_file, profiles_dir, runtime_file, hooks_file, syscall_filter,
// domain_template, work_dir, storage, volumes_dir, lvm_volume_group, lvm_snapshot_size,
// zfs_dataset, memory_mb, vcpus, traps_ttl, out_interface, drakvuf_grace_s,
// log_stall_warning_s, tool.<name>. Throws util::InputError on unknown keys / bad values.
XenEngineOptions parse_xen_options(const std::map<std::string, std::string>& kv);

// snapshot_version is the snapshot file's mtime in Unix seconds. Throws util::SystemError.
std::int64_t snapshot_version(const std::filesystem::path& snapshot_file);

class XenEngine : public Engine {
  public:
    explicit XenEngine(XenEngineOptions options);
    std::string name() const override { return "xen"; }
    // Windows guests only (the Linux execproc path is not implemented).
    bool supports_platform(const std::string& platform) const override;
    // analyze runs the whole cycle; raw output: drakmon.log, dumps/, ipt/, dumps.pcap,
    // drakvuf.stderr.log. Errors: EngineError (injection unsuccessful -> non-retryable with
    // the injector's Error; restore failure, drakvuf crash/hang -> retryable).
    AnalysisResult analyze(const AnalysisRequest& request, const ProgressFn& progress) override;
    // sanity checks the hypervisor (/proc/xen, /sys/hypervisor/type, xl info), every tool,
    // the snapshot, profiles, runtime profile and hooks file, with a fix hint for each miss.
    std::vector<SanityCheck> sanity() const override;

  private:
    std::string tool(const std::string& name) const;
    AnalysisResult analyze_impl(const AnalysisRequest& request, const ProgressFn& progress);
    XenEngineOptions o_;
};

}  // namespace engine::xen
