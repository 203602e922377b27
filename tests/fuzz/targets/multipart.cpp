// Fuzz target multipart: a POST /upload body through cpp-httplib's server, its multipart parser
// and drak_web::read_upload (web/upload.hpp) — the code path drak-web runs for uploads, minus
// Redis/S3. A private httplib::Server on 127.0.0.1 (started once, upload cap 4 KiB so the 413
// path is reachable) answers each input; the request is sent over a real socket.
// Input: line 1 = the boundary (CR/LF dropped, at most 200 bytes); when it starts with '~' the
// body goes chunked (Transfer-Encoding) in pieces of 1 + (second byte % 64) bytes and the
// boundary is the rest after those two bytes; otherwise it goes with Content-Length.
// The rest of the input is the body.
// Invariants: the answer is 200 (accepted), 400 (bad request) or 413 (over the cap) — never
// 500, a hang or a crash; an accepted form has a safe name and a spool file of exactly the
// counted size, at most the cap.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

#include "drakrun/file_names.hpp"
#include "targets.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "web/errors.hpp"
#include "web/upload.hpp"

namespace fuzz {

namespace {

constexpr std::uint64_t kCap = 4096;

struct UploadServer {
    httplib::Server http;
    util::TempDir spool{"fuzz-multipart"};
    std::thread thread;
    int port = 0;

    UploadServer() {
        http.new_task_queue = [] { return new httplib::ThreadPool(2); };
        http.set_payload_max_length(static_cast<std::size_t>(drak_web::upload_payload_limit(kCap)));
        http.set_read_timeout(5, 0);
        http.set_write_timeout(5, 0);
        http.Post("/upload", [this](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
            util::TempDir dir("req", spool.path());
            const auto sample = dir.path() / "sample";
            try {
                const auto form = drak_web::read_upload(req, reader, sample, kCap);
                check(form.file_bytes > 0 && form.file_bytes <= kCap,
                      "multipart: accepted file size outside (0, cap]");
                check(std::filesystem::file_size(sample) == form.file_bytes,
                      "multipart: spool file size differs from the counted bytes");
                check(drakrun::is_safe_file_name(form.name.full) &&
                          form.name.full.find('/') == std::string::npos,
                      "multipart: accepted an unsafe name");
                res.set_content(form.name.full, "text/plain");
            } catch (const drak_web::ApiError& e) {
                res.status = e.status();
                res.set_content(e.what(), "text/plain");
            } catch (const std::exception& e) {
                res.status = 500;
                res.set_content(e.what(), "text/plain");
            }
        });
        port = http.bind_to_any_port("127.0.0.1");
        check(port > 0, "multipart: cannot bind 127.0.0.1");
        thread = std::thread([this] { http.listen_after_bind(); });
        for (int i = 0; i < 1000 && !http.is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
};

UploadServer& server() {
    // Never destroyed: the listener thread runs until the process exits.
    static UploadServer* s = new UploadServer;
    return *s;
}

// exchange sends `request` on a fresh connection and returns the status code of the answer
// (0 when the connection broke before a status line).
int exchange(int port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check(fd >= 0, "multipart: socket");
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Thousands of connections a second: a transient refusal (the listener's short backlog,
    // a port still being torn down) is retried; only a lasting failure breaks the invariant.
    int connect_errno = 0;
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            connect_errno = 0;
            break;
        }
        connect_errno = errno;
        if (connect_errno != ECONNREFUSED && connect_errno != EADDRNOTAVAIL &&
            connect_errno != EAGAIN && connect_errno != EINTR && connect_errno != ETIMEDOUT) {
            break;
        }
        ::close(fd);
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        check(fd >= 0, "multipart: socket");
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
    }
    if (connect_errno != 0) {
        static std::string message;
        message = std::string("multipart: connect: ") + std::strerror(connect_errno);
        check(false, message.c_str());
    }
    std::size_t sent = 0;
    while (sent < request.size()) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may answer and close early (413)
        sent += static_cast<std::size_t>(n);
    }
    std::string answer;
    char buf[4096];
    while (true) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            check(false, "multipart: the server did not answer within 10 s");
        if (n <= 0) break;
        answer.append(buf, static_cast<std::size_t>(n));
    }
    // Abortive close (RST): the answer is complete, and no TIME_WAIT is left on either side,
    // so a long run does not run the loopback out of ports.
    linger abort_on_close{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    ::close(fd);
    if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) return 0;
    return std::atoi(answer.substr(9, 3).c_str());
}

}  // namespace

int multipart_status(const std::uint8_t* data, std::size_t size) {
    std::string_view in = as_text(data, size);
    const auto nl = in.find('\n');
    std::string_view line = nl == std::string_view::npos ? in : in.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    bool chunked = false;
    std::size_t piece = 0;
    if (!line.empty() && line[0] == '~') {
        chunked = true;
        piece = 1 + (line.size() > 1 ? static_cast<unsigned char>(line[1]) % 64 : 0);
        line.remove_prefix(std::min<std::size_t>(2, line.size()));
    }
    std::string boundary;
    for (char c : line.substr(0, 200))
        if (c != '\r' && c != '\n' && c != '\0') boundary.push_back(c);

    std::string req =
        "POST /upload HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n"
        "Content-Type: multipart/form-data; boundary=" +
        boundary + "\r\n";
    if (chunked) {
        req += "Transfer-Encoding: chunked\r\n\r\n";
        for (std::size_t at = 0; at < body.size(); at += piece) {
            const auto part = body.substr(at, piece);
            char hex[32];
            std::snprintf(hex, sizeof hex, "%zx\r\n", part.size());
            req += hex;
            req += part;
            req += "\r\n";
        }
        req += "0\r\n\r\n";
    } else {
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        req += body;
    }
    return exchange(server().port, req);
}

int fuzz_multipart(const std::uint8_t* data, std::size_t size) {
    const int status = multipart_status(data, size);
    check(status == 200 || status == 400 || status == 413,
          "multipart: answer other than 200/400/413 (500, broken connection or hang)");
    return 0;
}

}  // namespace fuzz
