// engine/xen/vm.hpp — per-instance VM pieces driven through command lines: the volume overlay
// behind a small StorageBackend interface (qcow2 default, LVM, ZFS), the xl domain config
// rendered from a template, and the xl restore/domid/destroy argv (issue 9 "VM lifecycle").
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace engine::xen {

using Argv = std::vector<std::string>;

// StorageBackend creates and removes the copy-on-write disk of vm-<N> on top of the golden
// vm-0 volume. Implementations only build command lines; the engine runs them.
class StorageBackend {
  public:
    virtual ~StorageBackend() = default;
    virtual std::string name() const = 0;
    // prepare_commands create the overlay of vm-<vm_id> (run in order, each must exit 0).
    virtual std::vector<Argv> prepare_commands(int vm_id) const = 0;
    // disk_spec is the xl "disk" entry of the overlay.
    virtual std::string disk_spec(int vm_id) const = 0;
    // cleanup_commands remove the overlay (run in order, failures only logged).
    virtual std::vector<Argv> cleanup_commands(int vm_id) const = 0;
    // required_tools lists the programs the backend runs (for sanity checks).
    virtual std::vector<std::string> required_tools() const = 0;
};

// StorageOptions: backend choice and its parameters.
struct StorageOptions {
    std::string backend = "qcow2";             // "qcow2", "lvm" or "zfs"
    std::filesystem::path volumes_dir;         // qcow2: vm-0.img and the vm-<N>.img overlays
    std::string lvm_volume_group;              // lvm: VG holding vm-0
    std::string lvm_snapshot_size = "1G";      // lvm: -L of the snapshot
    std::string zfs_dataset;                   // zfs: dataset holding vm-0 (snapshot @booted)
    std::map<std::string, std::string> tools;  // program overrides ("qemu-img" -> path)
};

// make_storage_backend validates the options and returns the backend. Throws util::InputError
// for an unknown backend or a missing parameter.
std::unique_ptr<StorageBackend> make_storage_backend(const StorageOptions& options);

// DomainParams: values substituted into the domain config template.
struct DomainParams {
    int vm_id = 1;
    std::string disk;    // StorageBackend::disk_spec
    std::string bridge;  // drak<N>
    int memory_mb = 4096;
    int vcpus = 2;
    int vnc_port = 5901;  // 5900 + N
    std::string vnc_password;
    std::filesystem::path cdrom;  // optional second disk ("" = none)
};

// kDefaultDomainTemplate is the HVM template used when no template file is configured.
extern const std::string_view kDefaultDomainTemplate;

// render_domain_config replaces {{ VM_ID }}, {{ VM_NAME }}, {{ DISKS }}, {{ BRIDGE }},
// {{ MEMORY }}, {{ VCPUS }}, {{ VNC_PORT }}, {{ VNC_PASS }} (spaces inside braces optional).
// Throws util::InputError for an unknown or unterminated placeholder and for parameter
// values with characters that would break the xl config syntax (quotes, newlines).
std::string render_domain_config(std::string_view templ, const DomainParams& params);

// xl command lines.
Argv xl_restore_argv(const std::string& xl, const std::filesystem::path& config,
                     const std::filesystem::path& snapshot);
Argv xl_domid_argv(const std::string& xl, int vm_id);
Argv xl_destroy_argv(const std::string& xl, int vm_id);

}  // namespace engine::xen
