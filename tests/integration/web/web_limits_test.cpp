// Limits and hostile input against a real drak-web (issue 10 "Limits"): a 10 GB sparse sample
// streamed at POST /upload (with Content-Length and chunked), sample names with "../", control
// characters or 4 KB of text, oversized and too many form fields, JSON nested 10,000 deep.
// Each gets its JSON error quickly with bounded memory (the server runs in this process, so its
// RSS is ours), nothing reaches Karton, and a normal upload afterwards still succeeds.
// Real redis-server and s3rver (tests/support).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "karton/redis.hpp"
#include "support/redis_server.hpp"
#include "support/s3_server.hpp"
#include "util/fs.hpp"
#include "web/server.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kCap = 8u << 20;  // upload_max_size of these tests
constexpr std::uint64_t kSparse = 10ull << 30;
// RSS growth allowed while refusing the 10 GB: 64 MiB, plus ASan's quarantine of freed
// memory (256 MiB by default) in the sanitizer build.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssBoundKib = (64 + 256) * 1024;
#else
constexpr long kRssBoundKib = 64 * 1024;
#endif

class Env {
  public:
    test_support::RedisServer redis;
    test_support::S3Server s3;
    util::TempDir work{"web-limits"};

    Env() {
        s3::S3Client c(s3_options());
        c.create_bucket("drakrun");
        c.create_bucket("karton");
    }
    s3::Options s3_options() const {
        s3::Options o;
        o.endpoint = s3.endpoint();
        o.access_key = s3.access_key();
        o.secret_key = s3.secret_key();
        return o;
    }
    karton::RedisOptions redis_options() const {
        karton::RedisOptions r;
        r.host = redis.host();
        r.port = redis.port();
        return r;
    }
    drak_web::WebConfig config() const {
        drak_web::WebConfig c;
        c.web.port = 0;
        c.web.threads = 4;
        c.web.upload_max_size = kCap;
        c.service.redis = redis_options();
        c.service.s3 = s3_options();
        c.service.bucket = "karton";
        return c;
    }
};

Env* g_env = nullptr;

// rss_kib reads VmRSS or VmHWM (peak) of this process from /proc/self/status.
long status_kib(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return -1;
}

class WebLimits : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { g_env = new Env(); }
    static void TearDownTestSuite() {
        delete g_env;
        g_env = nullptr;
    }
    void SetUp() override {
        server_ = std::make_unique<drak_web::WebServer>(g_env->config());
        server_->start();
        client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
        client_->set_read_timeout(30, 0);
    }
    long long queued() {
        karton::Connection conn(g_env->redis_options());
        return conn.command({"LLEN", "karton.tasks"}).as_integer();
    }
    httplib::Result upload(const std::string& content, const std::string& name,
                           httplib::MultipartFormDataItems extra = {}) {
        httplib::MultipartFormDataItems items = {
            {"file", content, name, "application/octet-stream"}};
        for (auto& e : extra) items.push_back(e);
        return client_->Post("/upload", items);
    }
    void expect_normal_upload_works() {
        auto r = upload("MZ normal sample", "normal.exe");
        ASSERT_TRUE(r) << "no answer to a normal upload after the hostile one";
        EXPECT_EQ(r->status, 200) << r->body;
    }
    std::unique_ptr<drak_web::WebServer> server_;
    std::unique_ptr<httplib::Client> client_;
};

void expect_error(const httplib::Result& r, int status, const std::string& kind) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_EQ(j.value("kind", ""), kind) << r->body;
    EXPECT_FALSE(j.value("error", "").empty());
}

// StreamResult: what a raw client saw while streaming a file at /upload.
struct StreamResult {
    std::string answer;           // status line, headers and body as received
    std::uint64_t file_sent = 0;  // file bytes the server accepted from us before answering
    double seconds = 0;
};

// stream_upload posts `path` (size `size`) as the multipart `file` part over a raw socket,
// either with an exact Content-Length or chunked, and stops sending as soon as the server
// answers (or closes). The body is read from the file 1 MiB at a time: bounded memory here too.
StreamResult stream_upload(int port, const std::filesystem::path& path, std::uint64_t size,
                           bool chunked) {
    const std::string boundary = "----drak-limits-boundary";
    const std::string head = "--" + boundary +
                             "\r\nContent-Disposition: form-data; name=\"file\"; "
                             "filename=\"huge.exe\"\r\nContent-Type: "
                             "application/octet-stream\r\n\r\n";
    const std::string tail = "\r\n--" + boundary + "--\r\n";
    std::string req =
        "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        "multipart/form-data; boundary=" +
        boundary + "\r\n";
    if (chunked) {
        req += "Transfer-Encoding: chunked\r\n\r\n";
    } else {
        req += "Content-Length: " + std::to_string(head.size() + size + tail.size()) + "\r\n\r\n";
    }
    if (chunked) {
        char hex[32];
        std::snprintf(hex, sizeof hex, "%zx\r\n", head.size());
        req += hex + head + "\r\n";
    } else {
        req += head;
    }

    StreamResult out;
    const auto start = Clock::now();
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    util::UniqueFd sock(fd);
    util::UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(file);

    auto send_all = [&](std::string_view data) {
        std::size_t done = 0;
        while (done < data.size()) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 0) > 0) return false;  // the server answered: stop sending
            ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    };
    // send_framed sends one piece of the body (as a chunk when chunked) without copying it.
    auto send_framed = [&](std::string_view data) {
        if (!chunked) return send_all(data);
        char hex[32];
        std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
        return send_all(hex) && send_all(data) && send_all("\r\n");
    };
    bool open = send_all(req);
    std::vector<char> buf(1u << 20);
    while (open && out.file_sent < size) {
        if (Clock::now() - start > std::chrono::seconds(120)) break;
        const std::size_t want = std::min<std::uint64_t>(buf.size(), size - out.file_sent);
        ssize_t n = ::pread(file.get(), buf.data(), want, static_cast<off_t>(out.file_sent));
        if (n <= 0) break;
        open = send_framed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        if (open) out.file_sent += static_cast<std::uint64_t>(n);
    }
    if (open && send_framed(tail) && chunked) send_all("0\r\n\r\n");
    // Read the answer (up to 30 s).
    char rb[4096];
    while (true) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 30000) <= 0) break;
        ssize_t n = ::recv(fd, rb, sizeof rb, 0);
        if (n <= 0) break;
        out.answer.append(rb, static_cast<std::size_t>(n));
        const auto end = out.answer.find("\r\n\r\n");
        if (end != std::string::npos && out.answer.find('}', end) != std::string::npos) break;
    }
    out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return out;
}

void check_sparse_refused(int port, bool chunked) {
    util::TempDir dir("sparse");
    const auto path = dir.path() / "huge.exe";
    {
        util::UniqueFd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        ASSERT_TRUE(f);
        ASSERT_EQ(::pwrite(f.get(), "MZ", 2, 0), 2);
        ASSERT_EQ(::ftruncate(f.get(), static_cast<off_t>(kSparse)), 0);  // 10 GB, sparse
    }
    const long rss_before = status_kib("VmRSS");
    const StreamResult r = stream_upload(port, path, kSparse, chunked);
    const long rss_after = status_kib("VmRSS");
    ASSERT_EQ(r.answer.rfind("HTTP/1.1 413", 0), 0u) << r.answer.substr(0, 200);
    // The first answer only (httplib may answer the bytes left in flight as a second request).
    const auto head_end = r.answer.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    const auto cl = r.answer.find("Content-Length: ");
    ASSERT_LT(cl, head_end);
    const auto body = r.answer.substr(head_end + 4, std::stoul(r.answer.substr(cl + 16)));
    auto j = nlohmann::json::parse(body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << body;
    EXPECT_EQ(j.value("kind", ""), "payload_too_large");
    EXPECT_NE(j.value("error", "").find(std::to_string(kCap)), std::string::npos) << body;
    // Refused at the cap, not after the 10 GB: with Content-Length before any file byte is
    // read; chunked after cap + the drain (about 2 x cap), plus what sits in socket buffers.
    EXPECT_LT(r.file_sent, 4 * kCap + (16u << 20)) << "the server read far past the cap";
    EXPECT_LT(r.seconds, 30.0);
    EXPECT_LT(rss_after - rss_before, 64 * 1024)
        << "RSS grew by " << (rss_after - rss_before) << " KiB while refusing 10 GB";
    std::printf("10 GB sparse upload (%s): 413 after %.1f MiB sent, %.2f s, RSS %+ld KiB\n",
                chunked ? "chunked" : "Content-Length", r.file_sent / 1048576.0, r.seconds,
                rss_after - rss_before);
}

TEST_F(WebLimits, TenGigabyteSparseSampleWithContentLengthIs413BeforeReadingIt) {
    const auto before = queued();
    check_sparse_refused(server_->port(), false);
    EXPECT_EQ(queued(), before);
    expect_normal_upload_works();
}

TEST_F(WebLimits, TenGigabyteSparseSampleChunkedIs413AtTheCap) {
    const auto before = queued();
    check_sparse_refused(server_->port(), true);
    EXPECT_EQ(queued(), before);
    expect_normal_upload_works();
}

TEST_F(WebLimits, HostileSampleNamesAreRefusedAndNothingIsQueued) {
    const auto before = queued();
    const std::string long_name = std::string(4096, 'A') + ".exe";
    // As the uploaded file's own name.
    for (const std::string& name : {std::string("../../etc/passwd"), std::string("..\\..\\x.exe"),
                                    std::string("/etc/passwd"), long_name}) {
        SCOPED_TRACE(name.substr(0, 40));
        expect_error(upload("MZ", name), 400, "bad_request");
    }
    // As the file_name field (it can carry any byte).
    for (const std::string& name :
         {std::string("../../etc/passwd"),
          std::string("a\x01"
                      "b.exe"),
          std::string("new\nline.exe"), std::string("cr\r.exe"), std::string("tab\t.exe"),
          std::string("nul\0x.exe", 9), std::string("del\x7f.exe"), std::string("esc\x1b[2J.exe"),
          long_name}) {
        SCOPED_TRACE(name.substr(0, 40));
        expect_error(upload("MZ", "ok.exe", {{"file_name", name, "", ""}}), 400, "bad_request");
    }
    EXPECT_EQ(queued(), before);
    expect_normal_upload_works();
}

TEST_F(WebLimits, OversizedAndTooManyFormFieldsAreRefused) {
    const auto before = queued();
    expect_error(upload("MZ", "ok.exe", {{"start_command", std::string(100 * 1024, 'x'), "", ""}}),
                 400, "bad_request");
    expect_error(upload("MZ", "ok.exe", {{"start_command", std::string(5000, 'x'), "", ""}}), 400,
                 "bad_request");  // under the field cap, over the 4096 start_command limit
    httplib::MultipartFormDataItems many;
    for (int i = 0; i < 40; ++i) many.push_back({"f" + std::to_string(i), "v", "", ""});
    expect_error(upload("MZ", "ok.exe", many), 400, "bad_request");
    EXPECT_EQ(queued(), before);
    expect_normal_upload_works();
}

TEST_F(WebLimits, JsonNested10000DeepIsRefusedQuickly) {
    const auto start = Clock::now();
    // The one JSON the API reads: the plugins field (8 KiB cap, then a list of names).
    const std::string deep = std::string(10000, '[') + std::string(10000, ']');
    expect_error(upload("MZ", "ok.exe", {{"plugins", deep, "", ""}}), 400, "bad_request");
    const std::string under_cap = std::string(4000, '[') + std::string(4000, ']');
    expect_error(upload("MZ", "ok.exe", {{"plugins", under_cap, "", ""}}), 400, "bad_request");
    // A JSON body is not an upload.
    expect_error(client_->Post("/upload", deep, "application/json"), 400, "bad_request");
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
    expect_normal_upload_works();
}

}  // namespace
