// engine/xen/network.hpp — per-instance guest network: bridge drak<N> with 10.13.<N>.1/24,
// dnsmasq (DHCP + DNS for the guest only), iptables rules that drop guest->host and
// guest->guest traffic and allow the Internet only with net_enable; RAII teardown that undoes
// exactly the steps that succeeded (issue 9; spec drakvuf-output.md §7.2).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/xen/process.hpp"

namespace engine::xen {

// NetworkParams: one instance's network.
struct NetworkParams {
    int vm_id = 1;                  // 1..254 -> 10.13.<vm_id>.0/24, bridge drak<vm_id>
    bool net_enable = false;        // allow guest -> Internet (NAT through out_interface)
    std::string out_interface;      // host uplink; required when net_enable
    std::filesystem::path run_dir;  // dnsmasq pid/lease files
    std::map<std::string, std::string> tools;  // "ip", "iptables", "dnsmasq" overrides
};

// bridge_name is "drak<N>"; gateway_address is "10.13.<N>.1".
std::string bridge_name(int vm_id);
std::string gateway_address(int vm_id);

// NetStep: one setup command and the command that undoes it (empty: nothing to undo).
struct NetStep {
    std::vector<std::string> apply;
    std::vector<std::string> undo;
};

// network_steps lists bridge + iptables steps in apply order (teardown runs the undo commands
// of applied steps in reverse). Throws util::InputError for a vm_id outside 1..254 or
// net_enable without an out_interface / with an unsafe interface name.
std::vector<NetStep> network_steps(const NetworkParams& p);

// dnsmasq_argv: foreground dnsmasq serving DHCP and DNS on the bridge only.
std::vector<std::string> dnsmasq_argv(const NetworkParams& p);

// VmNetwork brings the network up in the constructor (throws util::Error after undoing what
// was done when a step fails) and tears it down in the destructor or teardown(), best effort:
// every undo command is attempted, failures are logged and collected in teardown_errors().
class VmNetwork {
  public:
    explicit VmNetwork(NetworkParams params);
    ~VmNetwork();
    VmNetwork(const VmNetwork&) = delete;
    VmNetwork& operator=(const VmNetwork&) = delete;
    void teardown();
    const std::vector<std::string>& teardown_errors() const { return teardown_errors_; }

  private:
    NetworkParams params_;
    std::vector<NetStep> applied_;
    Child dnsmasq_;
    bool down_ = false;
    std::vector<std::string> teardown_errors_;
};

}  // namespace engine::xen
