// s3/http_transport.hpp — the HTTP layer under the S3 client: a small interface (request and
// response are plain values) and its libcurl implementation. The transport never decides what
// an S3 error is; the protocol layer (s3/client.hpp) does (style anchor §1.1, spec §13).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace s3 {

// BodyReader fills `buf` with up to `max` bytes of request body and returns how many it wrote
// (0 only at the end). It may throw; the request then fails with that exception.
using BodyReader = std::function<size_t(char* buf, size_t max)>;

// BodySource opens the request body from its start; the transport calls it once per exchange
// and again whenever libcurl must resend the body (e.g. a reused connection was closed).
using BodySource = std::function<BodyReader()>;

// BodySink receives the response body of a 2xx response in pieces. It may throw.
using BodySink = std::function<void(std::string_view chunk)>;

// HttpRequest describes one HTTP exchange.
struct HttpRequest {
    static constexpr std::chrono::milliseconds kDefaultConnectTimeout{10'000};
    static constexpr std::chrono::seconds kDefaultIdleTimeout{60};
    static constexpr size_t kDefaultMaxBodyBytes = 64 * 1024 * 1024;

    std::string method{};  // GET, HEAD, PUT, POST, DELETE
    std::string url{};
    std::map<std::string, std::string> headers{};  // sent as given (Host comes from the URL)
    // Request body: `body` from memory, or readers from `open_body` streaming exactly
    // `body_size` bytes.
    std::string_view body{};
    BodySource open_body{};
    uint64_t body_size = 0;
    // Response body: handed to `sink` for 2xx responses when set; otherwise (and for every
    // non-2xx answer) kept in HttpResponse::body, at most `max_body_bytes` bytes.
    BodySink sink{};
    size_t max_body_bytes = kDefaultMaxBodyBytes;
    std::chrono::milliseconds connect_timeout = kDefaultConnectTimeout;
    // The transfer is aborted when no byte moves for this long (large bodies have no total
    // time limit); zero disables the check.
    std::chrono::seconds idle_timeout = kDefaultIdleTimeout;
};

// HttpResponse is the outcome of one exchange. When the exchange itself failed (connection
// refused, timeout, reset, body over the limit) `error` is non-empty and `status` is 0.
struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers{};  // names lower-cased; last value wins
    std::string body{};
    std::string error{};
    bool body_truncated = false;  // the body exceeded max_body_bytes (error is set too)

    bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

// HttpTransport performs HTTP exchanges. Implementations report network failures in
// HttpResponse::error and rethrow exceptions raised by BodySource/BodyReader/BodySink callbacks.
class HttpTransport {
  public:
    virtual ~HttpTransport() = default;
    virtual HttpResponse perform(const HttpRequest& request) = 0;
};

// curl_global_setup runs curl_global_init exactly once per process (later calls are no-ops).
// House rule 7: call it from main before starting threads; CurlTransport's constructor calls it
// too, so programs that do not are still correct. Throws util::Error when libcurl fails.
void curl_global_setup();

// CurlTransport is HttpTransport over one reused libcurl easy handle (keep-alive). Calls are
// serialised by a mutex. Construction calls curl_global_setup().
// Throws util::Error when libcurl cannot be initialised or rejects an option.
class CurlTransport final : public HttpTransport {
  public:
    CurlTransport();
    ~CurlTransport() override;
    CurlTransport(const CurlTransport&) = delete;
    CurlTransport& operator=(const CurlTransport&) = delete;

    HttpResponse perform(const HttpRequest& request) override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::mutex mutex_;
};

}  // namespace s3
