#include "s3/http_transport.hpp"

#include <strings.h>
#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>

#include "s3/internal/curl_handles.hpp"
#include "util/error.hpp"

namespace s3 {

namespace {

template <typename T>
void set_opt(CURL* h, CURLoption opt, T value, const char* name) {
    CURLcode rc = curl_easy_setopt(h, opt, value);
    if (rc != CURLE_OK) {
        throw util::Error(std::string("curl_easy_setopt(") + name +
                          ") failed: " + curl_easy_strerror(rc));
    }
}
#define DRAK_SET_OPT(h, opt, value) set_opt(h, opt, value, #opt)

// State shared with the libcurl callbacks of one exchange.
struct Exchange {
    CURL* handle = nullptr;
    const HttpRequest* request = nullptr;
    HttpResponse* response = nullptr;
    uint64_t body_offset = 0;  // bytes of an in-memory body already handed to curl
    BodyReader reader{};       // current reader from request->open_body
    uint64_t streamed = 0;     // bytes produced by `reader` so far
    bool status_known = false;
    bool use_sink = false;
    bool over_limit = false;
    std::exception_ptr callback_error{};
};

size_t read_cb(char* buf, size_t size, size_t nitems, void* userdata) {
    auto* ex = static_cast<Exchange*>(userdata);
    size_t max = size * nitems;
    try {
        if (ex->request->open_body) {
            uint64_t left = ex->request->body_size - ex->streamed;
            size_t want = static_cast<size_t>(std::min<uint64_t>(max, left));
            if (want == 0) {
                return 0;
            }
            size_t n = ex->reader(buf, want);
            if (n == 0 || n > want) {
                throw util::Error("request body ended after " + std::to_string(ex->streamed) +
                                  " of " + std::to_string(ex->request->body_size) + " bytes");
            }
            ex->streamed += n;
            return n;
        }
        std::string_view body = ex->request->body;
        size_t n = std::min<size_t>(max, body.size() - ex->body_offset);
        std::memcpy(buf, body.data() + ex->body_offset, n);
        ex->body_offset += n;
        return n;
    } catch (...) {
        ex->callback_error = std::current_exception();
        return CURL_READFUNC_ABORT;
    }
}

// libcurl rewinds the body when it must send it again; only a rewind to the start is possible.
int seek_cb(void* userdata, curl_off_t offset, int origin) {
    auto* ex = static_cast<Exchange*>(userdata);
    if (origin != SEEK_SET || offset != 0) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    try {
        if (ex->request->open_body) {
            ex->reader = ex->request->open_body();
            ex->streamed = 0;
        } else {
            ex->body_offset = 0;
        }
        return CURL_SEEKFUNC_OK;
    } catch (...) {
        ex->callback_error = std::current_exception();
        return CURL_SEEKFUNC_FAIL;
    }
}

size_t write_cb(char* data, size_t size, size_t nmemb, void* userdata) {
    auto* ex = static_cast<Exchange*>(userdata);
    size_t n = size * nmemb;
    try {
        if (!ex->status_known) {
            long status = 0;
            if (curl_easy_getinfo(ex->handle, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
                throw util::Error("curl_easy_getinfo(CURLINFO_RESPONSE_CODE) failed");
            }
            ex->status_known = true;
            ex->use_sink = ex->request->sink && status >= 200 && status < 300;
        }
        if (ex->use_sink) {
            ex->request->sink(std::string_view(data, n));
            return n;
        }
        std::string& body = ex->response->body;
        if (body.size() + n > ex->request->max_body_bytes) {
            ex->over_limit = true;
            return 0;  // makes curl stop with CURLE_WRITE_ERROR
        }
        body.append(data, n);
        return n;
    } catch (...) {
        ex->callback_error = std::current_exception();
        return 0;
    }
}

size_t header_cb(char* data, size_t size, size_t nitems, void* userdata) {
    auto* ex = static_cast<Exchange*>(userdata);
    size_t n = size * nitems;
    std::string_view line(data, n);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
        line.remove_suffix(1);
    }
    if (line.rfind("HTTP/", 0) == 0) {
        ex->response->headers.clear();  // a new response (after 100 Continue)
        return n;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return n;
    }
    std::string name(line.substr(0, colon));
    for (auto& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    ex->response->headers[name] = std::string(value);
    return n;
}

}  // namespace

void curl_global_setup() {
    static std::once_flag once;
    static CURLcode result = CURLE_OK;
    // curl_global_cleanup is deliberately never called: other libraries may still use libcurl
    // during static destruction.
    std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (result != CURLE_OK) {
        throw util::Error(std::string("curl_global_init failed: ") + curl_easy_strerror(result));
    }
}

struct CurlTransport::Impl {
    internal::CurlPtr handle;
};

CurlTransport::CurlTransport() : impl_(std::make_unique<Impl>()) {
    curl_global_setup();
    impl_->handle.reset(curl_easy_init());
    if (!impl_->handle) {
        throw util::Error("curl_easy_init failed");
    }
}

CurlTransport::~CurlTransport() = default;

HttpResponse CurlTransport::perform(const HttpRequest& req) {
    std::lock_guard<std::mutex> lock(mutex_);
    CURL* h = impl_->handle.get();
    curl_easy_reset(h);

    HttpResponse resp;
    Exchange ex{.handle = h, .request = &req, .response = &resp};
    char errbuf[CURL_ERROR_SIZE] = {0};

    DRAK_SET_OPT(h, CURLOPT_URL, req.url.c_str());
    DRAK_SET_OPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    DRAK_SET_OPT(h, CURLOPT_NOSIGNAL, 1L);
    // Object keys may contain "." and ".." segments; they are names, not paths to normalise.
    DRAK_SET_OPT(h, CURLOPT_PATH_AS_IS, 1L);
    DRAK_SET_OPT(h, CURLOPT_ERRORBUFFER, errbuf);
    DRAK_SET_OPT(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
    if (req.idle_timeout.count() > 0) {
        DRAK_SET_OPT(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        DRAK_SET_OPT(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.idle_timeout.count()));
    }
    DRAK_SET_OPT(h, CURLOPT_WRITEFUNCTION, write_cb);
    DRAK_SET_OPT(h, CURLOPT_WRITEDATA, &ex);
    DRAK_SET_OPT(h, CURLOPT_HEADERFUNCTION, header_cb);
    DRAK_SET_OPT(h, CURLOPT_HEADERDATA, &ex);

    uint64_t body_size = req.open_body ? req.body_size : req.body.size();
    bool has_body = req.method == "PUT" || req.method == "POST";
    if (req.method == "HEAD") {
        DRAK_SET_OPT(h, CURLOPT_NOBODY, 1L);
    } else if (req.method == "GET") {
        DRAK_SET_OPT(h, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "PUT") {
        DRAK_SET_OPT(h, CURLOPT_UPLOAD, 1L);
        DRAK_SET_OPT(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
    } else if (req.method == "POST") {
        DRAK_SET_OPT(h, CURLOPT_POST, 1L);
        DRAK_SET_OPT(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
    } else if (req.method == "DELETE") {
        DRAK_SET_OPT(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        throw util::Error("CurlTransport: unsupported HTTP method " + req.method);
    }
    if (has_body) {
        DRAK_SET_OPT(h, CURLOPT_READFUNCTION, read_cb);
        DRAK_SET_OPT(h, CURLOPT_READDATA, &ex);
        DRAK_SET_OPT(h, CURLOPT_SEEKFUNCTION, seek_cb);
        DRAK_SET_OPT(h, CURLOPT_SEEKDATA, &ex);
        if (req.open_body) {
            ex.reader = req.open_body();
        }
    }

    internal::CurlSlistPtr headers;
    auto append = [&headers](const std::string& line) {
        curl_slist* next = curl_slist_append(headers.get(), line.c_str());
        if (next == nullptr) {
            throw util::Error("curl_slist_append failed");
        }
        (void)headers.release();
        headers.reset(next);
    };
    for (const auto& [name, value] : req.headers) {
        if (name.find_first_of("\r\n:") != std::string::npos ||
            value.find_first_of("\r\n") != std::string::npos) {
            throw util::InputError("HTTP header with a line break or colon: " + name);
        }
        // "Name;" is libcurl's spelling of a header with an empty value.
        append(value.empty() ? name + ";" : name + ": " + value);
    }
    // No "Expect: 100-continue" round trip: every body is sent right away.
    append("Expect:");
    // libcurl would add a form Content-Type to POST; send one only when the caller set it.
    bool has_content_type = std::any_of(req.headers.begin(), req.headers.end(), [](const auto& kv) {
        return strcasecmp(kv.first.c_str(), "Content-Type") == 0;
    });
    if (!has_content_type) {
        append("Content-Type:");
    }
    DRAK_SET_OPT(h, CURLOPT_HTTPHEADER, headers.get());

    CURLcode rc = curl_easy_perform(h);
    if (ex.callback_error) {
        std::rethrow_exception(ex.callback_error);
    }
    if (rc != CURLE_OK) {
        resp.status = 0;
        if (ex.over_limit) {
            resp.body_truncated = true;
            resp.error = "response body exceeds " + std::to_string(req.max_body_bytes) + " bytes";
        } else {
            resp.error = std::string(curl_easy_strerror(rc)) + (errbuf[0] ? ": " : "") + errbuf;
        }
        return resp;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status) != CURLE_OK) {
        throw util::Error("curl_easy_getinfo(CURLINFO_RESPONSE_CODE) failed");
    }
    return resp;
}

}  // namespace s3
