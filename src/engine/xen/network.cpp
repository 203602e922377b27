// engine/xen/network.cpp — bridge/iptables steps and the RAII network owner.
#include "engine/xen/network.hpp"

#include <cctype>
#include <chrono>

#include "util/error.hpp"
#include "util/logging.hpp"

namespace engine::xen {

namespace {

std::string tool(const std::map<std::string, std::string>& tools, const std::string& name) {
    auto it = tools.find(name);
    return it == tools.end() ? name : it->second;
}

bool safe_ifname(const std::string& s) {
    if (s.empty() || s.size() > 15) {
        return false;
    }
    for (char c : s) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

std::string subnet(int vm_id) { return "10.13." + std::to_string(vm_id) + ".0/24"; }

constexpr auto kToolLimit = std::chrono::seconds(30);

}  // namespace

std::string bridge_name(int vm_id) { return "drak" + std::to_string(vm_id); }
std::string gateway_address(int vm_id) { return "10.13." + std::to_string(vm_id) + ".1"; }

std::vector<NetStep> network_steps(const NetworkParams& p) {
    if (p.vm_id < 1 || p.vm_id > 254) {
        throw util::InputError("network: vm_id must be 1..254");
    }
    if (p.net_enable && !safe_ifname(p.out_interface)) {
        throw util::InputError("network: net_enable needs a valid out_interface");
    }
    const std::string ip = tool(p.tools, "ip");
    const std::string ipt = tool(p.tools, "iptables");
    const std::string br = bridge_name(p.vm_id);
    const std::string gw = gateway_address(p.vm_id);
    std::vector<NetStep> s;
    s.push_back({{ip, "link", "add", br, "type", "bridge"}, {ip, "link", "del", br}});
    s.push_back({{ip, "addr", "add", gw + "/24", "dev", br}, {}});
    s.push_back({{ip, "link", "set", "dev", br, "up"}, {}});
    // Each rule is appended with -A and removed with -D of the identical specification.
    auto rule = [&](std::vector<std::string> spec, const std::string& table = "") {
        std::vector<std::string> add{ipt};
        std::vector<std::string> del{ipt};
        if (!table.empty()) {
            add.insert(add.end(), {"-t", table});
            del.insert(del.end(), {"-t", table});
        }
        add.push_back("-A");
        del.push_back("-D");
        add.insert(add.end(), spec.begin(), spec.end());
        del.insert(del.end(), spec.begin(), spec.end());
        s.push_back({add, del});
    };
    // guest -> host: only DHCP and DNS to the gateway, everything else dropped.
    rule({"INPUT", "-i", br, "-p", "udp", "--dport", "67", "-j", "ACCEPT"});
    rule({"INPUT", "-i", br, "-d", gw, "-p", "udp", "--dport", "53", "-j", "ACCEPT"});
    rule({"INPUT", "-i", br, "-d", gw, "-p", "tcp", "--dport", "53", "-j", "ACCEPT"});
    rule({"INPUT", "-i", br, "-j", "DROP"});
    // guest -> other guests (and any other private host network of the sandbox): dropped.
    rule({"FORWARD", "-i", br, "-d", "10.13.0.0/16", "-j", "DROP"});
    rule({"FORWARD", "-o", br, "-s", "10.13.0.0/16", "-j", "DROP"});
    if (p.net_enable) {
        rule({"FORWARD", "-i", br, "-o", p.out_interface, "-j", "ACCEPT"});
        rule({"FORWARD", "-i", p.out_interface, "-o", br, "-m", "state", "--state",
              "ESTABLISHED,RELATED", "-j", "ACCEPT"});
        rule({"POSTROUTING", "-s", subnet(p.vm_id), "-o", p.out_interface, "-j", "MASQUERADE"},
             "nat");
    } else {
        rule({"FORWARD", "-i", br, "-j", "DROP"});
        rule({"FORWARD", "-o", br, "-j", "DROP"});
    }
    return s;
}

std::vector<std::string> dnsmasq_argv(const NetworkParams& p) {
    const std::string base = "10.13." + std::to_string(p.vm_id) + ".";
    return {tool(p.tools, "dnsmasq"),
            "--keep-in-foreground",
            "--no-hosts",
            "--bind-interfaces",
            "--interface=" + bridge_name(p.vm_id),
            "--except-interface=lo",
            "--listen-address=" + gateway_address(p.vm_id),
            "--dhcp-range=" + base + "100," + base + "200,255.255.255.0,12h",
            "--dhcp-option=option:router," + gateway_address(p.vm_id),
            "--dhcp-option=option:dns-server," + gateway_address(p.vm_id),
            "--pid-file=" + (p.run_dir / ("dnsmasq-" + std::to_string(p.vm_id) + ".pid")).string(),
            "--dhcp-leasefile=" +
                (p.run_dir / ("dnsmasq-" + std::to_string(p.vm_id) + ".leases")).string()};
}

VmNetwork::VmNetwork(NetworkParams params) : params_(std::move(params)) {
    auto steps = network_steps(params_);
    try {
        for (auto& step : steps) {
            auto r = run_tool(step.apply, kToolLimit);
            if (r.exit_code != 0 || r.timed_out) {
                throw util::Error("network setup failed: " + join_argv(step.apply) + " (exit " +
                                  std::to_string(r.exit_code) + "): " + r.err.substr(0, 2000));
            }
            applied_.push_back(std::move(step));
        }
        dnsmasq_ = Child::spawn(dnsmasq_argv(params_));
        if (auto code = dnsmasq_.wait_for(std::chrono::milliseconds(100))) {
            throw util::Error("dnsmasq exited at start (exit " + std::to_string(*code) + ")");
        }
    } catch (...) {
        teardown();
        throw;
    }
}

VmNetwork::~VmNetwork() { teardown(); }

void VmNetwork::teardown() {
    if (down_) {
        return;
    }
    down_ = true;
    auto log = util::logger("engine");
    if (dnsmasq_.running()) {
        dnsmasq_.stop(std::chrono::seconds(5));
    }
    for (auto it = applied_.rbegin(); it != applied_.rend(); ++it) {
        if (it->undo.empty()) {
            continue;
        }
        try {
            auto r = run_tool(it->undo, kToolLimit);
            if (r.exit_code != 0) {
                teardown_errors_.push_back(join_argv(it->undo) + ": exit " +
                                           std::to_string(r.exit_code));
                log->warn("network teardown: {} failed (exit {}): {}", join_argv(it->undo),
                          r.exit_code, r.err);
            }
        } catch (const std::exception& e) {
            teardown_errors_.push_back(join_argv(it->undo) + ": " + e.what());
            log->warn("network teardown: {}: {}", join_argv(it->undo), e.what());
        }
    }
    applied_.clear();
}

}  // namespace engine::xen
