// engine/native/netsim.cpp — simulated network for the native engine (see netsim.hpp).
#include "engine/native/netsim.hpp"

#include <atomic>
#include <memory>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "engine/native/command.hpp"
#include "util/error.hpp"
#include "util/logging.hpp"

namespace engine::native {

namespace fs = std::filesystem;

namespace {

constexpr int kHttpPort = 8080;
constexpr int kTlsPort = 8443;
constexpr std::size_t kMaxRequest = 16384;

std::uint16_t be16(const std::string& p, std::size_t off) {
    return static_cast<std::uint16_t>((static_cast<unsigned char>(p[off]) << 8) |
                                      static_cast<unsigned char>(p[off + 1]));
}

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

std::string lower(std::string s) {
    for (auto& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string sanitize(const std::string& s) {
    // Names come from the sample: keep them printable for the log.
    std::string out;
    for (unsigned char c : s) {
        out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
    return out;
}

void run_in_netns(const std::string& netns_name, const std::function<void()>& fn) {
    std::exception_ptr err;
    std::thread t([&] {
        try {
            util::UniqueFd fd(::open(("/run/netns/" + netns_name).c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) {
                util::throw_errno("open netns " + netns_name);
            }
            if (::setns(fd.get(), CLONE_NEWNET) != 0) {
                util::throw_errno("setns " + netns_name);
            }
            fn();
        } catch (...) {
            err = std::current_exception();
        }
    });
    t.join();
    if (err) {
        std::rethrow_exception(err);
    }
}

util::UniqueFd make_socket(int type, int port) {
    util::UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        util::throw_errno("socket");
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        util::throw_errno("bind port " + std::to_string(port));
    }
    if (type == SOCK_STREAM && ::listen(fd.get(), 64) != 0) {
        util::throw_errno("listen port " + std::to_string(port));
    }
    return fd;
}

std::string addr_str(const sockaddr_in& sa) {
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf);
    return buf;
}

}  // namespace

std::optional<DnsQuery> parse_dns_query(const std::string& p) {
    if (p.size() < 12 || p.size() > 4096) {
        return std::nullopt;
    }
    DnsQuery q;
    q.id = be16(p, 0);
    std::uint16_t flags = be16(p, 2);
    if ((flags & 0x8000) != 0 || be16(p, 4) == 0) {
        return std::nullopt;
    }
    std::size_t off = 12;
    for (;;) {
        if (off >= p.size()) {
            return std::nullopt;
        }
        auto len = static_cast<unsigned char>(p[off]);
        if (len == 0) {
            ++off;
            break;
        }
        if ((len & 0xc0) != 0 || off + 1 + len > p.size()) {
            return std::nullopt;
        }
        if (!q.name.empty()) {
            q.name.push_back('.');
        }
        q.name.append(p, off + 1, len);
        if (q.name.size() > 255) {
            return std::nullopt;
        }
        off += 1 + len;
    }
    if (off + 4 > p.size()) {
        return std::nullopt;
    }
    q.qtype = be16(p, off);
    q.qclass = be16(p, off + 2);
    q.question_end = off + 4;
    return q;
}

std::string build_dns_response(const std::string& packet, const DnsQuery& q,
                               const std::string& ipv4) {
    std::string out;
    put16(out, q.id);
    std::uint16_t rd = be16(packet, 2) & 0x0100;
    put16(out, static_cast<std::uint16_t>(0x8080 | rd));  // QR, RA (+RD copied), NOERROR
    bool answer = q.qtype == 1 && q.qclass == 1;
    put16(out, 1);
    put16(out, answer ? 1 : 0);
    put16(out, 0);
    put16(out, 0);
    out.append(packet, 12, q.question_end - 12);
    if (answer) {
        in_addr a{};
        ::inet_pton(AF_INET, ipv4.c_str(), &a);
        put16(out, 0xc00c);
        put16(out, 1);
        put16(out, 1);
        put16(out, 0);
        put16(out, 60);
        put16(out, 4);
        out.append(reinterpret_cast<const char*>(&a.s_addr), 4);
    }
    return out;
}

std::optional<HttpRequestInfo> parse_http_request(const std::string& data) {
    auto eol = data.find("\r\n");
    std::string first =
        data.substr(0, eol == std::string::npos ? std::min<std::size_t>(data.size(), 8192) : eol);
    auto s1 = first.find(' ');
    auto s2 = first.rfind(' ');
    if (s1 == std::string::npos || s2 == s1 || first.compare(s2 + 1, 5, "HTTP/") != 0) {
        return std::nullopt;
    }
    HttpRequestInfo r;
    r.method = first.substr(0, s1);
    for (char c : r.method) {
        if (!std::isupper(static_cast<unsigned char>(c))) {
            return std::nullopt;
        }
    }
    r.uri = first.substr(s1 + 1, s2 - s1 - 1);
    r.version = first.substr(s2 + 1);
    std::size_t pos = eol == std::string::npos ? data.size() : eol + 2;
    while (pos < data.size()) {
        auto e = data.find("\r\n", pos);
        std::string line = data.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
        if (line.empty()) {
            break;
        }
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string key = lower(line.substr(0, colon));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.erase(0, 1);
            }
            if (key == "host") {
                r.host = value;
            } else if (key == "user-agent") {
                r.user_agent = value;
            }
        }
        if (e == std::string::npos) {
            break;
        }
        pos = e + 2;
    }
    return r;
}

struct NetSim::PcapState {
    pcap_t* handle = nullptr;
    pcap_dumper_t* dumper = nullptr;
    ~PcapState() {
        if (dumper != nullptr) {
            pcap_dump_close(dumper);
        }
        if (handle != nullptr) {
            pcap_close(handle);
        }
    }
};

struct NetSim::TlsState {
    SSL_CTX* ctx = nullptr;
    ~TlsState() {
        if (ctx != nullptr) {
            SSL_CTX_free(ctx);
        }
    }
};

namespace {

// make_tls_context builds a server context with a fresh self-signed P-256 certificate.
SSL_CTX* make_tls_context() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (key == nullptr) {
        throw util::Error("EVP_EC_gen failed");
    }
    X509* cert = X509_new();
    SSL_CTX* ctx = nullptr;
    try {
        if (cert == nullptr) {
            throw util::Error("X509_new failed");
        }
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 0x5a17);
        X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
        X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 365);
        X509_set_pubkey(cert, key);
        X509_NAME* n = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
        X509_set_issuer_name(cert, n);
        if (X509_sign(cert, key, EVP_sha256()) == 0) {
            throw util::Error("X509_sign failed");
        }
        ctx = SSL_CTX_new(TLS_server_method());
        if (ctx == nullptr) {
            throw util::Error("SSL_CTX_new failed");
        }
        if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
            throw util::Error("SSL_CTX_use_certificate failed");
        }
    } catch (...) {
        if (ctx != nullptr) {
            SSL_CTX_free(ctx);
        }
        X509_free(cert);
        EVP_PKEY_free(key);
        throw;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return ctx;
}

}  // namespace

NetSim::NetSim(const std::string& name, const fs::path& pcap_path, RecordWriter* writer)
    : name_(name), pcap_path_(pcap_path), writer_(writer) {
    try {
        setup_namespaces();
        open_services();
    } catch (...) {
        pcap_.reset();
        teardown_namespaces();
        throw;
    }
    // Return only once both threads run their own code: a thread still starting up may hold
    // allocator locks, and the engine forks the sandbox right after this. glibc's fork()
    // resets malloc's locks in the child; GCC 12's ASan allocator does not, so a fork during
    // thread start-up could leave the sandbox child blocked forever (docs/native-engine.md).
    // Shared ownership: a thread may still be inside notify_all() when this function returns.
    auto running = std::make_shared<std::atomic<int>>(0);
    auto started = [running] {
        running->fetch_add(1);
        running->notify_all();
    };
    serve_thread_ = std::thread([this, started] {
        started();
        serve();
    });
    capture_thread_ = std::thread([this, started] {
        started();
        capture();
    });
    for (int seen = running->load(); seen < 2; seen = running->load()) {
        running->wait(seen);
    }
}

NetSim::~NetSim() {
    stop();
    teardown_namespaces();
}

fs::path NetSim::sample_netns() const { return fs::path("/run/netns") / (name_ + "-s"); }

void NetSim::setup_namespaces() {
    const std::string s = name_ + "-s";
    const std::string n = name_ + "-n";
    run_checked({"ip", "netns", "add", s});
    run_checked({"ip", "netns", "add", n});
    run_checked(
        {"ip", "-n", s, "link", "add", "eth0", "type", "veth", "peer", "name", "sim0", "netns", n});
    run_checked({"ip", "-n", s, "addr", "add", std::string(kSampleAddress) + "/24", "dev", "eth0"});
    run_checked({"ip", "-n", s, "link", "set", "lo", "up"});
    run_checked({"ip", "-n", s, "link", "set", "eth0", "up"});
    run_checked({"ip", "-n", s, "route", "add", "default", "via", kNetsimAddress});
    run_checked({"ip", "-n", n, "addr", "add", std::string(kNetsimAddress) + "/24", "dev", "sim0"});
    run_checked({"ip", "-n", n, "link", "set", "lo", "up"});
    run_checked({"ip", "-n", n, "link", "set", "sim0", "up"});
    // Every TCP port of every address lands on the responders; DNS to any server on ours.
    const std::vector<std::string> ipt = {
        "ip", "netns", "exec", n, "iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-i", "sim0"};
    auto rule = [&](std::vector<std::string> tail) {
        auto argv = ipt;
        argv.insert(argv.end(), tail.begin(), tail.end());
        run_checked(argv);
    };
    rule({"-p", "tcp", "--dport", "443", "-j", "REDIRECT", "--to-ports", std::to_string(kTlsPort)});
    rule({"-p", "tcp", "-j", "REDIRECT", "--to-ports", std::to_string(kHttpPort)});
    rule({"-p", "udp", "--dport", "53", "-j", "REDIRECT", "--to-ports", "53"});
}

void NetSim::open_services() {
    tls_ = std::make_unique<TlsState>();
    tls_->ctx = make_tls_context();
    pcap_ = std::make_unique<PcapState>();
    run_in_netns(name_ + "-n", [&] {
        dns_fd_ = make_socket(SOCK_DGRAM, 53);
        http_fd_ = make_socket(SOCK_STREAM, kHttpPort);
        tls_fd_ = make_socket(SOCK_STREAM, kTlsPort);
        char errbuf[PCAP_ERRBUF_SIZE] = {};
        pcap_->handle = pcap_create("sim0", errbuf);
        if (pcap_->handle == nullptr) {
            throw util::Error(std::string("pcap_create sim0: ") + errbuf);
        }
        pcap_set_snaplen(pcap_->handle, 65535);
        pcap_set_immediate_mode(pcap_->handle, 1);
        pcap_set_timeout(pcap_->handle, 100);
        if (pcap_activate(pcap_->handle) < 0) {
            throw util::Error(std::string("pcap_activate sim0: ") + pcap_geterr(pcap_->handle));
        }
    });
    pcap_->dumper = pcap_dump_open(pcap_->handle, pcap_path_.c_str());
    if (pcap_->dumper == nullptr) {
        throw util::Error("pcap_dump_open " + pcap_path_.string() + ": " +
                          pcap_geterr(pcap_->handle));
    }
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    if (pcap_setnonblock(pcap_->handle, 1, errbuf) != 0) {
        throw util::Error(std::string("pcap_setnonblock: ") + errbuf);
    }
    stop_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_fd_) {
        util::throw_errno("eventfd");
    }
}

void NetSim::emit(nlohmann::ordered_json fields) {
    if (writer_ == nullptr) {
        return;
    }
    nlohmann::ordered_json r;
    r["Plugin"] = "netsim";
    r["TimeStamp"] = writer_->timestamp();
    for (auto& [k, v] : fields.items()) {
        r[k] = v;
    }
    try {
        writer_->write(r);
    } catch (const util::Error& e) {
        util::logger("engine")->error("netsim record: {}", e.what());
    }
}

void NetSim::serve() {
    pollfd pfds[4] = {{dns_fd_.get(), POLLIN, 0},
                      {http_fd_.get(), POLLIN, 0},
                      {tls_fd_.get(), POLLIN, 0},
                      {stop_fd_.get(), POLLIN, 0}};
    for (;;) {
        int n = ::poll(pfds, 4, 500);
        if (stopped_.load() || (n > 0 && (pfds[3].revents & POLLIN))) {
            return;
        }
        if (n <= 0) {
            continue;
        }
        try {
            if (pfds[0].revents & POLLIN) {
                handle_dns();
            }
            if (pfds[1].revents & POLLIN) {
                handle_tcp(false);
            }
            if (pfds[2].revents & POLLIN) {
                handle_tcp(true);
            }
        } catch (const std::exception& e) {
            util::logger("engine")->warn("netsim: {}", e.what());
        }
    }
}

void NetSim::handle_dns() {
    char buf[4096];
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    ssize_t n =
        ::recvfrom(dns_fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n <= 0) {
        return;
    }
    std::string packet(buf, static_cast<std::size_t>(n));
    auto q = parse_dns_query(packet);
    if (!q) {
        return;
    }
    dns_queries_.fetch_add(1);
    nlohmann::ordered_json f;
    f["Event"] = "dns_query";
    f["DnsName"] = sanitize(q->name);
    f["QueryType"] = q->qtype;
    f["LocalIp"] = addr_str(from);
    f["LocalPort"] = ntohs(from.sin_port);
    f["Answer"] = q->qtype == 1 ? kNetsimAddress : "";
    emit(f);
    std::string resp = build_dns_response(packet, *q, kNetsimAddress);
    ::sendto(dns_fd_.get(), resp.data(), resp.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
}

void NetSim::handle_tcp(bool tls) {
    sockaddr_in peer{};
    socklen_t plen = sizeof peer;
    util::UniqueFd c(::accept4(tls ? tls_fd_.get() : http_fd_.get(),
                               reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC));
    if (!c) {
        return;
    }
    // Each connection gets its own thread (bounded) so an idle connection cannot stall the
    // other responders; every socket has 1 s timeouts, so stop() joins quickly.
    if (connection_threads_.size() < 256) {
        connection_threads_.emplace_back([this, fd = c.release(), peer, tls]() mutable {
            serve_connection(util::UniqueFd(fd), peer, tls);
        });
    } else {
        serve_connection(std::move(c), peer, tls);
    }
}

void NetSim::serve_connection(util::UniqueFd c, sockaddr_in peer, bool tls) {
    tcp_connections_.fetch_add(1);
    sockaddr_in orig{};
    socklen_t olen = sizeof orig;
    if (::getsockopt(c.get(), SOL_IP, SO_ORIGINAL_DST, &orig, &olen) != 0) {
        orig = sockaddr_in{};
    }
    timeval tv{1, 0};
    ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    nlohmann::ordered_json f;
    f["Event"] = "tcp_connect";
    f["Protocol"] = "TCPv4";
    f["LocalIp"] = addr_str(peer);
    f["LocalPort"] = ntohs(peer.sin_port);
    f["RemoteIp"] = addr_str(orig);
    f["RemotePort"] = ntohs(orig.sin_port);
    emit(f);

    SSL* ssl = nullptr;
    auto ssl_guard = [&] {
        if (ssl != nullptr) {
            SSL_free(ssl);
        }
    };
    std::string request;
    std::string sni;
    if (tls) {
        ssl = SSL_new(tls_->ctx);
        if (ssl == nullptr) {
            return;
        }
        SSL_set_fd(ssl, c.get());
        if (SSL_accept(ssl) != 1) {
            const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
            nlohmann::ordered_json h;
            h["Event"] = "tls_handshake_failed";
            h["RemoteIp"] = addr_str(orig);
            h["RemotePort"] = ntohs(orig.sin_port);
            h["ServerName"] = name != nullptr ? sanitize(name) : "";
            emit(h);
            ERR_clear_error();
            ssl_guard();
            return;
        }
        const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        sni = name != nullptr ? sanitize(name) : "";
    }
    char buf[4096];
    while (request.size() < kMaxRequest && request.find("\r\n\r\n") == std::string::npos) {
        int n = tls ? SSL_read(ssl, buf, sizeof buf)
                    : static_cast<int>(::recv(c.get(), buf, sizeof buf, 0));
        if (n <= 0) {
            break;
        }
        request.append(buf, static_cast<std::size_t>(n));
    }
    auto http = parse_http_request(request);
    if (http) {
        nlohmann::ordered_json h;
        h["Event"] = tls ? "https_request" : "http_request";
        h["RemoteIp"] = addr_str(orig);
        h["RemotePort"] = ntohs(orig.sin_port);
        if (tls) {
            h["ServerName"] = sni;
        }
        h["HttpMethod"] = sanitize(http->method);
        h["Uri"] = sanitize(http->uri);
        h["Host"] = sanitize(http->host);
        h["UserAgent"] = sanitize(http->user_agent);
        emit(h);
        static const std::string body = "<html><body>OK</body></html>\n";
        std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        if (tls) {
            SSL_write(ssl, resp.data(), static_cast<int>(resp.size()));
        } else {
            ::send(c.get(), resp.data(), resp.size(), MSG_NOSIGNAL);
        }
    } else if (!request.empty()) {
        nlohmann::ordered_json h;
        h["Event"] = "tcp_data";
        h["RemoteIp"] = addr_str(orig);
        h["RemotePort"] = ntohs(orig.sin_port);
        h["Size"] = request.size();
        emit(h);
    }
    if (ssl != nullptr) {
        SSL_shutdown(ssl);
    }
    ERR_clear_error();
    ssl_guard();
}

void NetSim::capture() {
    pollfd pfds[2] = {{pcap_get_selectable_fd(pcap_->handle), POLLIN, 0},
                      {stop_fd_.get(), POLLIN, 0}};
    auto cb = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
        pcap_dump(user, h, bytes);
    };
    for (;;) {
        int n = ::poll(pfds, 2, 100);
        int got = pcap_dispatch(pcap_->handle, -1, cb, reinterpret_cast<u_char*>(pcap_->dumper));
        if (got > 0) {
            packets_.fetch_add(static_cast<std::uint64_t>(got));
        }
        if (stopped_.load() || (n > 0 && (pfds[1].revents & POLLIN))) {
            break;
        }
    }
    pcap_dump_flush(pcap_->dumper);
}

void NetSim::stop() {
    if (stopped_.exchange(true)) {
        return;
    }
    std::uint64_t one = 1;
    if (stop_fd_) {
        ssize_t w = ::write(stop_fd_.get(), &one, sizeof one);
        (void)w;
    }
    if (serve_thread_.joinable()) {
        serve_thread_.join();
    }
    for (auto& t : connection_threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    if (capture_thread_.joinable()) {
        capture_thread_.join();
    }
    pcap_.reset();
}

void NetSim::teardown_namespaces() noexcept {
    for (const auto& n : {name_ + "-s", name_ + "-n"}) {
        if (!delete_netns(n)) {
            util::logger("engine")->error("could not delete netns {}", n);
        }
    }
}

bool delete_netns(const std::string& name) {
    std::error_code ec;
    if (!fs::exists(fs::path("/run/netns") / name, ec)) {
        return true;
    }
    try {
        run_command({"ip", "netns", "del", name});
    } catch (const util::Error&) {
    }
    return !fs::exists(fs::path("/run/netns") / name, ec);
}

std::vector<std::string> list_netns() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/run/netns", ec)) {
        out.push_back(e.path().filename().string());
    }
    return out;
}

}  // namespace engine::native
