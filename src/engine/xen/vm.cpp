// engine/xen/vm.cpp — storage backends, domain config template, xl argv.
#include "engine/xen/vm.hpp"

#include "util/error.hpp"

namespace engine::xen {

namespace {

std::string tool(const std::map<std::string, std::string>& tools, const std::string& name) {
    auto it = tools.find(name);
    return it == tools.end() ? name : it->second;
}

std::string vm_name(int vm_id) { return "vm-" + std::to_string(vm_id); }

class Qcow2Backend : public StorageBackend {
  public:
    explicit Qcow2Backend(StorageOptions o) : o_(std::move(o)) {}
    std::string name() const override { return "qcow2"; }
    std::vector<Argv> prepare_commands(int vm_id) const override {
        return {{tool(o_.tools, "qemu-img"), "create", "-f", "qcow2", "-o",
                 "backing_file=" + (o_.volumes_dir / "vm-0.img").string() + ",backing_fmt=qcow2",
                 overlay(vm_id)}};
    }
    std::string disk_spec(int vm_id) const override {
        return "tap:qcow2:" + overlay(vm_id) + ",xvda,w";
    }
    std::vector<Argv> cleanup_commands(int vm_id) const override {
        return {{tool(o_.tools, "rm"), "-f", overlay(vm_id)}};
    }
    std::vector<std::string> required_tools() const override {
        return {tool(o_.tools, "qemu-img")};
    }

  private:
    std::string overlay(int vm_id) const {
        return (o_.volumes_dir / (vm_name(vm_id) + ".img")).string();
    }
    StorageOptions o_;
};

class LvmBackend : public StorageBackend {
  public:
    explicit LvmBackend(StorageOptions o) : o_(std::move(o)) {}
    std::string name() const override { return "lvm"; }
    std::vector<Argv> prepare_commands(int vm_id) const override {
        return {{tool(o_.tools, "lvcreate"), "-s", "-L", o_.lvm_snapshot_size, "-n", snap(vm_id),
                 o_.lvm_volume_group + "/vm-0"}};
    }
    std::string disk_spec(int vm_id) const override {
        return "phy:/dev/" + o_.lvm_volume_group + "/" + snap(vm_id) + ",xvda,w";
    }
    std::vector<Argv> cleanup_commands(int vm_id) const override {
        return {{tool(o_.tools, "lvremove"), "-f", o_.lvm_volume_group + "/" + snap(vm_id)}};
    }
    std::vector<std::string> required_tools() const override {
        return {tool(o_.tools, "lvcreate"), tool(o_.tools, "lvremove")};
    }

  private:
    static std::string snap(int vm_id) { return vm_name(vm_id) + "-snap"; }
    StorageOptions o_;
};

class ZfsBackend : public StorageBackend {
  public:
    explicit ZfsBackend(StorageOptions o) : o_(std::move(o)) {}
    std::string name() const override { return "zfs"; }
    std::vector<Argv> prepare_commands(int vm_id) const override {
        return {
            {tool(o_.tools, "zfs"), "clone", "-p", o_.zfs_dataset + "/vm-0@booted", volume(vm_id)}};
    }
    std::string disk_spec(int vm_id) const override {
        return "phy:/dev/zvol/" + volume(vm_id) + ",xvda,w";
    }
    std::vector<Argv> cleanup_commands(int vm_id) const override {
        return {{tool(o_.tools, "zfs"), "destroy", "-Rfr", volume(vm_id)}};
    }
    std::vector<std::string> required_tools() const override { return {tool(o_.tools, "zfs")}; }

  private:
    std::string volume(int vm_id) const { return o_.zfs_dataset + "/" + vm_name(vm_id); }
    StorageOptions o_;
};

bool safe_token(const std::string& s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (c == '\'' || c == '"' || c == '\n' || c == '\r' || c == '\\' ||
            static_cast<unsigned char>(c) < 0x20) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::unique_ptr<StorageBackend> make_storage_backend(const StorageOptions& o) {
    if (o.backend == "qcow2") {
        if (o.volumes_dir.empty()) {
            throw util::InputError("storage qcow2: volumes_dir is required");
        }
        return std::make_unique<Qcow2Backend>(o);
    }
    if (o.backend == "lvm") {
        if (!safe_token(o.lvm_volume_group) || o.lvm_volume_group.find('/') != std::string::npos) {
            throw util::InputError("storage lvm: lvm_volume_group is required (a plain VG name)");
        }
        return std::make_unique<LvmBackend>(o);
    }
    if (o.backend == "zfs") {
        if (!safe_token(o.zfs_dataset) || o.zfs_dataset.front() == '/') {
            throw util::InputError("storage zfs: zfs_dataset is required (pool/dataset)");
        }
        return std::make_unique<ZfsBackend>(o);
    }
    throw util::InputError("unknown storage backend: " + o.backend +
                           " (available: qcow2, lvm, zfs)");
}

const std::string_view kDefaultDomainTemplate =
    "arch = 'x86_64'\n"
    "name = '{{ VM_NAME }}'\n"
    "type = 'hvm'\n"
    "maxmem = {{ MEMORY }}\n"
    "memory = {{ MEMORY }}\n"
    "vcpus = {{ VCPUS }}\n"
    "maxvcpus = {{ VCPUS }}\n"
    "altp2m = 2\n"
    "shadow_memory = 32\n"
    "on_poweroff = 'destroy'\n"
    "on_reboot = 'destroy'\n"
    "on_crash = 'destroy'\n"
    "vnc = 1\n"
    "vnclisten = '0.0.0.0:{{ VNC_PORT }}'\n"
    "vncpasswd = '{{ VNC_PASS }}'\n"
    "usb = 1\n"
    "usbdevice = ['tablet']\n"
    "disk = [ {{ DISKS }} ]\n"
    "vif = [ 'type=ioemu,model=e1000,bridge={{ BRIDGE }}' ]\n";

std::string render_domain_config(std::string_view templ, const DomainParams& p) {
    std::string disks = "'" + p.disk + "'";
    if (!p.cdrom.empty()) {
        disks += ", 'file:" + p.cdrom.string() + ",hdc:cdrom,r'";
    }
    for (const std::string& v : {p.disk, p.bridge, p.vnc_password, p.cdrom.string()}) {
        if (!v.empty() && !safe_token(v)) {
            throw util::InputError(
                "domain config: value with quote, backslash or control character");
        }
    }
    if (p.disk.empty() || p.bridge.empty()) {
        throw util::InputError("domain config: disk and bridge are required");
    }
    const std::map<std::string, std::string> vars = {
        {"VM_ID", std::to_string(p.vm_id)},
        {"VM_NAME", vm_name(p.vm_id)},
        {"DISKS", disks},
        {"BRIDGE", p.bridge},
        {"MEMORY", std::to_string(p.memory_mb)},
        {"VCPUS", std::to_string(p.vcpus)},
        {"VNC_PORT", std::to_string(p.vnc_port)},
        {"VNC_PASS", p.vnc_password},
    };
    std::string out;
    std::size_t pos = 0;
    while (pos < templ.size()) {
        std::size_t open = templ.find("{{", pos);
        if (open == std::string_view::npos) {
            out.append(templ.substr(pos));
            break;
        }
        out.append(templ.substr(pos, open - pos));
        std::size_t close = templ.find("}}", open + 2);
        if (close == std::string_view::npos) {
            throw util::InputError("domain config template: unterminated {{ placeholder");
        }
        std::string key(templ.substr(open + 2, close - open - 2));
        auto b = key.find_first_not_of(' ');
        auto e = key.find_last_not_of(' ');
        key = b == std::string::npos ? "" : key.substr(b, e - b + 1);
        auto it = vars.find(key);
        if (it == vars.end()) {
            throw util::InputError("domain config template: unknown placeholder {{ " +
                                   key.substr(0, 64) + " }}");
        }
        out += it->second;
        pos = close + 2;
    }
    return out;
}

Argv xl_restore_argv(const std::string& xl, const std::filesystem::path& config,
                     const std::filesystem::path& snapshot) {
    return {xl, "-vvv", "restore", config.string(), snapshot.string()};
}

Argv xl_domid_argv(const std::string& xl, int vm_id) { return {xl, "domid", vm_name(vm_id)}; }

Argv xl_destroy_argv(const std::string& xl, int vm_id) { return {xl, "destroy", vm_name(vm_id)}; }

}  // namespace engine::xen
