// engine/native/netsim.hpp — the native engine's simulated network (issue 3 "Network"): the
// sample's network namespace joined by a veth pair only to a second namespace ("netsim"),
// never to the host's. Netsim answers every DNS A query with its own address, accepts TCP on
// every port (HTTP responder; TLS responder with a run-time self-signed cert on 443), logs
// what it sees as "netsim" records and captures the veth to <out>/dumps.pcap (spec §7.2).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>

#include "engine/native/record_writer.hpp"
#include "util/fs.hpp"

namespace engine::native {

// Addresses of the simulated network (sample side .2, netsim side .1).
inline constexpr const char* kNetsimAddress = "10.13.0.1";
inline constexpr const char* kSampleAddress = "10.13.0.2";

// DnsQuery: the first question of a DNS message.
struct DnsQuery {
    std::uint16_t id = 0;
    std::string name;  // dotted, as sent (case preserved), without the trailing dot
    std::uint16_t qtype = 0;
    std::uint16_t qclass = 0;
    std::size_t question_end = 0;  // offset just past the question
};

// parse_dns_query decodes a query datagram; nullopt for anything malformed (truncated, label
// pointers in the question, QR set, no question, name longer than 255 bytes).
std::optional<DnsQuery> parse_dns_query(const std::string& packet);

// build_dns_response answers `query` (from `packet`): A/IN questions get one A record with
// `ipv4` (dotted quad), TTL 60; every other type gets NOERROR with no answers.
std::string build_dns_response(const std::string& packet, const DnsQuery& query,
                               const std::string& ipv4);

// HttpRequestInfo: the request line and a few headers of an HTTP/1.x request.
struct HttpRequestInfo {
    std::string method;
    std::string uri;
    std::string version;
    std::string host;
    std::string user_agent;
};

// parse_http_request reads the head of an HTTP/1.x request (up to the first empty line or the
// end of `data`); nullopt if the first line is not "<TOKEN> <uri> HTTP/<x>".
std::optional<HttpRequestInfo> parse_http_request(const std::string& data);

// NetSim owns the two namespaces, the responders and the capture of one analysis. The
// destructor stops everything, flushes the pcap and deletes both namespaces.
class NetSim {
  public:
    // Creates "<name>-s" (sample) and "<name>-n" (netsim) namespaces, the veth pair, NAT
    // rules and responders; the capture goes to `pcap_path`. `writer` (may be null) receives
    // netsim records; it must outlive this object. Throws util::Error naming the failed step
    // (missing ip/iptables, not root, ...); partial state is removed.
    NetSim(const std::string& name, const std::filesystem::path& pcap_path, RecordWriter* writer);
    ~NetSim();
    NetSim(const NetSim&) = delete;
    NetSim& operator=(const NetSim&) = delete;

    // sample_netns is the namespace file the sandbox joins (/run/netns/<name>-s).
    std::filesystem::path sample_netns() const;
    // netsim_netns is the service side's namespace name.
    std::string netsim_netns_name() const { return name_ + "-n"; }
    std::string sample_netns_name() const { return name_ + "-s"; }
    // stop ends the responders and the capture (idempotent); counts stay readable.
    void stop();
    // Counters of what the responders saw.
    std::uint64_t dns_queries() const { return dns_queries_.load(); }
    std::uint64_t tcp_connections() const { return tcp_connections_.load(); }
    std::uint64_t packets_captured() const { return packets_.load(); }

  private:
    void setup_namespaces();
    void open_services();
    void serve();
    void capture();
    void handle_dns();
    void handle_tcp(bool tls);
    void serve_connection(util::UniqueFd c, sockaddr_in peer, bool tls);
    void emit(nlohmann::ordered_json fields);
    void teardown_namespaces() noexcept;

    std::string name_;
    std::filesystem::path pcap_path_;
    RecordWriter* writer_;
    util::UniqueFd dns_fd_, http_fd_, tls_fd_, stop_fd_;
    struct PcapState;
    std::unique_ptr<PcapState> pcap_;
    struct TlsState;
    std::unique_ptr<TlsState> tls_;
    std::thread serve_thread_, capture_thread_;
    std::vector<std::thread> connection_threads_;  // one per accepted connection, joined at stop
    std::atomic<bool> stopped_{false};
    std::atomic<std::uint64_t> dns_queries_{0}, tcp_connections_{0}, packets_{0};
};

// delete_netns removes a named network namespace (ip netns del); returns whether it is gone.
bool delete_netns(const std::string& name);

// list_netns lists the named network namespaces (/run/netns entries).
std::vector<std::string> list_netns();

}  // namespace engine::native
