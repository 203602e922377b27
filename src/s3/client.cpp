#include "s3/client.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <thread>
#include <utility>

#include "s3/internal/xml.hpp"
#include "s3/sigv4.hpp"
#include "util/crypto.hpp"
#include "util/fs.hpp"
#include "util/logging.hpp"
#include "util/scope_exit.hpp"

namespace s3 {

namespace {

constexpr uint64_t kMaxParts = 10000;
constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kMaxBucketBytes = 255;
constexpr size_t kSmallAnswer = 1024 * 1024;  // bound for answers we only parse
constexpr size_t kIoBuffer = 1024 * 1024;

[[noreturn]] void invalid(const std::string& op, const std::string& bucket, const std::string& key,
                          const std::string& message) {
    throw S3Error({.operation = op,
                   .code = S3Error::kInvalidInput,
                   .message = message,
                   .bucket = bucket,
                   .key = key});
}

void check_bucket(const std::string& op, const std::string& bucket) {
    if (bucket.empty() || bucket.size() > kMaxBucketBytes) {
        invalid(op, bucket, "", "bucket name must have 1 to 255 characters");
    }
    for (unsigned char c : bucket) {
        if (!std::isalnum(c) && c != '.' && c != '-' && c != '_') {
            invalid(op, bucket, "", "bucket name may only contain letters, digits, '.', '-', '_'");
        }
    }
}

void check_key(const std::string& op, const std::string& bucket, const std::string& key) {
    check_bucket(op, bucket);
    if (key.empty() || key.size() > kMaxKeyBytes) {
        invalid(op, bucket, key.substr(0, 64), "object key must have 1 to 1024 bytes");
    }
}

std::string strip_quotes(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        return s.substr(1, s.size() - 2);
    }
    return s;
}

std::string header(const HttpResponse& r, const std::string& name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
}

bool transient(const HttpResponse& r) {
    if (!r.error.empty()) {
        return !r.body_truncated;
    }
    if (r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504 ||
        r.status == 429) {
        return true;
    }
    // S3 closes idle uploads with 400 RequestTimeout; the AWS SDKs retry it too.
    if (r.status == 400) {
        auto err = internal::parse_error(r.body);
        return err && err->code == "RequestTimeout";
    }
    return false;
}

// pread_full reads exactly `len` bytes at `offset` or throws.
size_t pread_some(int fd, char* buf, size_t len, uint64_t offset) {
    for (;;) {
        ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(offset));
        if (n >= 0) {
            return static_cast<size_t>(n);
        }
        if (errno != EINTR) {
            util::throw_errno("read of upload file");
        }
    }
}

void pwrite_all(int fd, std::string_view data, uint64_t offset) {
    while (!data.empty()) {
        ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            util::throw_errno("write of download file");
        }
        data.remove_prefix(static_cast<size_t>(n));
        offset += static_cast<uint64_t>(n);
    }
}

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// RegionDigests are the two digests S3 wants for a body: SHA-256 (hex, x-amz-content-sha256)
// and MD5 (base64, Content-MD5 like the reference SDK).
struct RegionDigests {
    std::string sha256_hex;
    std::string md5_base64;
};

// digest_region hashes `length` bytes of a file at `offset` in one pass of bounded memory.
RegionDigests digest_region(int fd, uint64_t offset, uint64_t length) {
    util::Sha256Stream sha;
    MdCtxPtr md5(EVP_MD_CTX_new());
    if (!md5 || EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1) {
        throw util::Error("EVP_DigestInit_ex(md5) failed");
    }
    std::string buf(kIoBuffer, '\0');
    uint64_t done = 0;
    while (done < length) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), length - done));
        size_t n = pread_some(fd, buf.data(), want, offset + done);
        if (n == 0) {
            throw util::Error("upload file shrank while it was read");
        }
        sha.update(std::string_view(buf.data(), n));
        if (EVP_DigestUpdate(md5.get(), buf.data(), n) != 1) {
            throw util::Error("EVP_DigestUpdate(md5) failed");
        }
        done += n;
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(md5.get(), out, &len) != 1) {
        throw util::Error("EVP_DigestFinal_ex(md5) failed");
    }
    return {sha.hex_digest(), util::base64(std::string_view(reinterpret_cast<char*>(out), len))};
}

BodyReader region_reader(int fd, uint64_t offset, uint64_t length) {
    return [fd, offset, length, pos = uint64_t{0}](char* buf, size_t max) mutable -> size_t {
        size_t want = static_cast<size_t>(std::min<uint64_t>(max, length - pos));
        if (want == 0) {
            return 0;
        }
        size_t n = pread_some(fd, buf, want, offset + pos);
        if (n == 0) {
            throw util::Error("upload file shrank while it was sent");
        }
        pos += n;
        return n;
    };
}

}  // namespace

// Call describes one logical S3 request; execute() signs and sends it (again on retry).
struct S3Client::Call {
    std::string operation{};
    std::string method{};
    std::string bucket{};
    std::string key{};
    std::map<std::string, std::string> query{};  // decoded; an empty value sends "?name"
    std::map<std::string, std::string> headers{};
    std::string_view body{};
    BodySource make_reader{};  // streaming body, reopened for every attempt
    uint64_t body_size = 0;
    std::string payload_hash{};  // required with make_reader; computed from body otherwise
    std::function<BodySink()> make_sink{};  // 2xx body consumer, fresh for every attempt
    size_t max_body_bytes = kSmallAnswer;
};

S3Client::S3Client(Options options, std::unique_ptr<HttpTransport> transport, util::Clock& clock)
    : options_(std::move(options)), transport_(std::move(transport)), clock_(&clock) {
    auto& ep = options_.endpoint;
    while (!ep.empty() && ep.back() == '/') {
        ep.pop_back();
    }
    auto scheme_end = ep.find("://");
    bool scheme_ok = ep.rfind("http://", 0) == 0 || ep.rfind("https://", 0) == 0;
    if (!scheme_ok || ep.find_first_of("/?#", scheme_end + 3) != std::string::npos) {
        invalid("Configure", "", "",
                "endpoint must look like http(s)://host[:port], got '" + ep + "'");
    }
    try {
        (void)canonical_host(ep);
    } catch (const util::InputError& e) {
        invalid("Configure", "", "", e.what());
    }
    if (options_.access_key.empty() || options_.secret_key.empty()) {
        invalid("Configure", "", "", "access key and secret key must be set");
    }
    if (options_.part_size < Options::kMinPartSize) {
        invalid("Configure", "", "", "part_size must be at least 5 MiB");
    }
    if (options_.download_chunk == 0 || options_.max_retries < 0) {
        invalid("Configure", "", "", "download_chunk must be > 0 and max_retries >= 0");
    }
    if (!transport_) {
        transport_ = std::make_unique<CurlTransport>();
    }
}

S3Client::~S3Client() = default;

std::string S3Client::object_url(const std::string& bucket, const std::string& key,
                                 const std::map<std::string, std::string>& query) const {
    std::string url = options_.endpoint + "/" + uri_encode(bucket);
    if (!key.empty()) {
        url += "/" + uri_encode(key, true);
    }
    char sep = '?';
    for (const auto& [name, value] : query) {
        url += sep;
        url += uri_encode(name);
        if (!value.empty()) {
            url += "=" + uri_encode(value);
        }
        sep = '&';
    }
    return url;
}

HttpResponse S3Client::execute(const Call& call) {
    const std::string url = object_url(call.bucket, call.key, call.query);
    const std::string payload_hash =
        call.payload_hash.empty() ? util::sha256_hex(call.body) : call.payload_hash;
    auto log = util::logger("s3");
    for (int attempt = 0;; ++attempt) {
        SignedRequest sig = sign_v4({.method = call.method,
                                     .url = url,
                                     .region = options_.region,
                                     .service = "s3",
                                     .access_key = options_.access_key,
                                     .secret_key = options_.secret_key,
                                     .amz_date = amz_date(clock_->now()),
                                     .payload_hash = payload_hash,
                                     .headers = call.headers});
        HttpRequest req{.method = call.method,
                        .url = url,
                        .headers = std::move(sig.headers),
                        .body = call.body,
                        .open_body = call.make_reader,
                        .body_size = call.body_size,
                        .sink = call.make_sink ? call.make_sink() : BodySink{},
                        .max_body_bytes = call.max_body_bytes,
                        .connect_timeout = options_.connect_timeout,
                        .idle_timeout = options_.idle_timeout};
        HttpResponse resp = transport_->perform(req);
        if (!transient(resp) || attempt >= options_.max_retries) {
            return resp;
        }
        auto delay = options_.retry_delay * (1 << std::min(attempt, 10));
        log->warn("S3 {} {}/{}: {} (attempt {} of {}), retrying in {} ms", call.operation,
                  call.bucket, call.key,
                  resp.error.empty() ? "HTTP " + std::to_string(resp.status) : resp.error,
                  attempt + 1, options_.max_retries + 1, delay.count());
        std::this_thread::sleep_for(delay);
    }
}

void S3Client::fail(const Call& call, const HttpResponse& resp) const {
    S3Error::Details d{
        .operation = call.operation, .status = resp.status, .bucket = call.bucket, .key = call.key};
    if (!resp.error.empty()) {
        d.code = resp.body_truncated ? "ResponseTooLarge" : S3Error::kNetworkError;
        d.message = resp.error + " (" + options_.endpoint + ")";
    } else if (auto err = internal::parse_error(resp.body)) {
        d.code = err->code;
        d.message = err->message;
        d.request_id = err->request_id;
    } else {
        // HEAD answers and some proxies carry no S3 error document.
        switch (resp.status) {
            case 400:
                d.code = "BadRequest";
                break;
            case 403:
                d.code = "Forbidden";
                break;
            case 404:
                d.code = "NotFound";
                break;
            case 405:
                d.code = "MethodNotAllowed";
                break;
            case 501:
                d.code = "NotImplemented";
                break;
            default:
                d.code = "HTTP" + std::to_string(resp.status);
        }
        std::string_view body = resp.body;
        d.message = std::string(body.substr(0, 200));
    }
    d.hint = hint_for(d.status, d.code);
    throw S3Error(std::move(d));
}

namespace {
// parse_or_fail turns a malformed answer into S3Error code InvalidResponse.
template <typename F>
auto parse_or_fail(const std::string& op, const std::string& bucket, const std::string& key,
                   F&& f) {
    try {
        return f();
    } catch (const util::InputError& e) {
        throw S3Error({.operation = op,
                       .code = "InvalidResponse",
                       .message = e.what(),
                       .bucket = bucket,
                       .key = key,
                       .hint = "the server answered with an unexpected document"});
    }
}
}  // namespace

bool S3Client::bucket_exists(const std::string& bucket) {
    check_bucket("HeadBucket", bucket);
    Call call{.operation = "HeadBucket", .method = "HEAD", .bucket = bucket};
    HttpResponse resp = execute(call);
    if (resp.ok()) {
        return true;
    }
    if (resp.error.empty() && resp.status == 404) {
        return false;
    }
    fail(call, resp);
}

void S3Client::create_bucket(const std::string& bucket) {
    check_bucket("CreateBucket", bucket);
    Call call{.operation = "CreateBucket", .method = "PUT", .bucket = bucket};
    HttpResponse resp = execute(call);
    if (resp.ok()) {
        return;
    }
    if (resp.error.empty() && resp.status == 409) {
        auto err = internal::parse_error(resp.body);
        if (err && err->code == "BucketAlreadyOwnedByYou") {
            return;
        }
    }
    fail(call, resp);
}

bool S3Client::ensure_bucket(const std::string& bucket) {
    return !bucket_exists(bucket) && create_missing_bucket(bucket);
}

bool S3Client::create_missing_bucket(const std::string& bucket) {
    try {
        create_bucket(bucket);
        return true;
    } catch (const S3Error& e) {
        // Someone else created it between our HEAD and PUT. A bucket owned by another account
        // also answers 409, but then HEAD answers 403, which bucket_exists throws on.
        if (e.status() == 409 && bucket_exists(bucket)) {
            return false;
        }
        throw;
    }
}

std::string S3Client::put_object(const std::string& bucket, const std::string& key,
                                 std::string_view data) {
    check_key("PutObject", bucket, key);
    Call call{.operation = "PutObject",
              .method = "PUT",
              .bucket = bucket,
              .key = key,
              .headers = {{"Content-MD5", util::base64(util::md5(data))}},
              .body = data};
    HttpResponse resp = execute(call);
    if (!resp.ok()) {
        fail(call, resp);
    }
    return strip_quotes(header(resp, "etag"));
}

std::string S3Client::put_file(const std::string& bucket, const std::string& key,
                               const std::filesystem::path& path) {
    check_key("PutObject", bucket, key);
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        invalid("PutObject", bucket, key,
                "cannot read regular file " + path.string() + ": " +
                    (fd ? std::string("not a regular file") : std::strerror(errno)));
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    try {
        if (size > options_.multipart_threshold) {
            return upload_multipart(bucket, key, fd.get(), size);
        }
        int raw = fd.get();
        RegionDigests digests = digest_region(raw, 0, size);
        Call call{.operation = "PutObject",
                  .method = "PUT",
                  .bucket = bucket,
                  .key = key,
                  .headers = {{"Content-MD5", digests.md5_base64}},
                  .make_reader = [raw, size] { return region_reader(raw, 0, size); },
                  .body_size = size,
                  .payload_hash = digests.sha256_hex};
        HttpResponse resp = execute(call);
        if (!resp.ok()) {
            fail(call, resp);
        }
        return strip_quotes(header(resp, "etag"));
    } catch (const S3Error&) {
        throw;
    } catch (const util::Error& e) {
        invalid("PutObject", bucket, key, path.string() + ": " + e.what());
    }
}

std::string S3Client::upload_multipart(const std::string& bucket, const std::string& key, int fd,
                                       uint64_t size) {
    uint64_t part = std::max(options_.part_size, Options::kMinPartSize);
    while ((size + part - 1) / part > kMaxParts) {
        part *= 2;
    }
    Call init{.operation = "CreateMultipartUpload",
              .method = "POST",
              .bucket = bucket,
              .key = key,
              .query = {{"uploads", ""}}};
    HttpResponse resp = execute(init);
    if (!resp.ok()) {
        fail(init, resp);
    }
    const std::string upload_id = parse_or_fail(
        init.operation, bucket, key, [&] { return internal::parse_upload_id(resp.body); });

    // Abort on every failure path so the server can drop the parts (best effort: s3rver, for
    // one, does not implement AbortMultipartUpload).
    util::ScopeExit abort([&] {
        try {
            Call call{.operation = "AbortMultipartUpload",
                      .method = "DELETE",
                      .bucket = bucket,
                      .key = key,
                      .query = {{"uploadId", upload_id}}};
            HttpResponse r = execute(call);
            if (!r.ok()) {
                util::logger("s3")->warn("abort of multipart upload {} of {}/{} failed: {}",
                                         upload_id, bucket, key,
                                         r.error.empty() ? std::to_string(r.status) : r.error);
            }
        } catch (const std::exception& e) {
            util::logger("s3")->warn("abort of multipart upload {} failed: {}", upload_id,
                                     e.what());
        }
    });

    std::vector<std::pair<int, std::string>> etags;
    int number = 1;
    for (uint64_t offset = 0; offset < size; offset += part, ++number) {
        uint64_t len = std::min(part, size - offset);
        RegionDigests digests = digest_region(fd, offset, len);
        Call call{.operation = "UploadPart",
                  .method = "PUT",
                  .bucket = bucket,
                  .key = key,
                  .query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                  .headers = {{"Content-MD5", digests.md5_base64}},
                  .make_reader = [fd, offset, len] { return region_reader(fd, offset, len); },
                  .body_size = len,
                  .payload_hash = digests.sha256_hex};
        HttpResponse r = execute(call);
        if (!r.ok()) {
            fail(call, r);
        }
        std::string etag = strip_quotes(header(r, "etag"));
        if (etag.empty()) {
            throw S3Error({.operation = call.operation,
                           .status = r.status,
                           .code = "InvalidResponse",
                           .message = "UploadPart answer has no ETag header",
                           .bucket = bucket,
                           .key = key});
        }
        etags.emplace_back(number, std::move(etag));
    }

    std::string body = internal::build_complete_multipart(etags);
    Call done{.operation = "CompleteMultipartUpload",
              .method = "POST",
              .bucket = bucket,
              .key = key,
              .query = {{"uploadId", upload_id}},
              .headers = {{"Content-Type", "application/xml"}},
              .body = body};
    HttpResponse r = execute(done);
    if (!r.ok()) {
        fail(done, r);
    }
    std::string etag = parse_or_fail(done.operation, bucket, key,
                                     [&] { return internal::parse_complete_multipart(r.body); });
    abort.cancel();
    return etag;
}

std::string S3Client::get_object(const std::string& bucket, const std::string& key) {
    check_key("GetObject", bucket, key);
    std::string out;
    const uint64_t limit = options_.max_in_memory_object;
    Call call{
        .operation = "GetObject",
        .method = "GET",
        .bucket = bucket,
        .key = key,
        .make_sink = [&out, limit, &bucket, &key] {
            out.clear();
            return [&out, limit, &bucket, &key](std::string_view chunk) {
                if (out.size() + chunk.size() > limit) {
                    throw S3Error({.operation = "GetObject",
                                   .code = "ObjectTooLarge",
                                   .message = "object is larger than " + std::to_string(limit) +
                                              " bytes; use download_file",
                                   .bucket = bucket,
                                   .key = key});
                }
                out.append(chunk);
            };
        }};
    HttpResponse resp = execute(call);
    if (!resp.ok()) {
        fail(call, resp);
    }
    return out;
}

std::string S3Client::get_object_range(const std::string& bucket, const std::string& key,
                                       uint64_t first, std::optional<uint64_t> last) {
    check_key("GetObject", bucket, key);
    if (last && *last < first) {
        invalid("GetObject", bucket, key, "range end is before range start");
    }
    if (last && *last - first >= options_.max_in_memory_object) {
        invalid("GetObject", bucket, key, "range is larger than max_in_memory_object");
    }
    std::string range =
        "bytes=" + std::to_string(first) + "-" + (last ? std::to_string(*last) : std::string());
    Call call{.operation = "GetObject",
              .method = "GET",
              .bucket = bucket,
              .key = key,
              .headers = {{"Range", range}},
              .max_body_bytes = static_cast<size_t>(options_.max_in_memory_object)};
    HttpResponse resp = execute(call);
    if (!resp.ok()) {
        fail(call, resp);
    }
    if (resp.status == 206) {
        // Compat: s3rver answers "bytes=0-0" with the whole object; never return more than asked.
        std::string content_range = header(resp, "content-range");
        if (content_range.rfind("bytes " + std::to_string(first) + "-", 0) != 0) {
            throw S3Error({.operation = call.operation,
                           .status = resp.status,
                           .code = "InvalidResponse",
                           .message = "asked for " + range + ", got Content-Range '" +
                                      content_range.substr(0, 64) + "'",
                           .bucket = bucket,
                           .key = key});
        }
        if (last && resp.body.size() > *last - first + 1) {
            resp.body.resize(static_cast<size_t>(*last - first + 1));
        }
        return std::move(resp.body);
    }
    // A server that ignores Range sends the whole object (200): cut the range out.
    if (first >= resp.body.size()) {
        return {};
    }
    uint64_t end = last ? std::min<uint64_t>(*last + 1, resp.body.size()) : resp.body.size();
    return resp.body.substr(first, end - first);
}

uint64_t S3Client::download_file(const std::string& bucket, const std::string& key,
                                 const std::filesystem::path& path,
                                 std::optional<uint64_t> max_size) {
    check_key("GetObject", bucket, key);
    std::optional<ObjectInfo> info = head_object(bucket, key);
    if (info && max_size && info->size > *max_size) {
        throw S3Error({.operation = "GetObject",
                       .code = "ObjectTooLarge",
                       .message = "object is " + std::to_string(info->size) +
                                  " bytes, over the limit of " + std::to_string(*max_size),
                       .bucket = bucket,
                       .key = key});
    }

    std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
    std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    util::UniqueFd fd(::mkstemp(tmpl.data()));
    if (!fd) {
        invalid("GetObject", bucket, key,
                "cannot create a temporary file next to " + path.string() + ": " +
                    std::strerror(errno));
    }
    util::ScopeExit remove_tmp([&] { ::unlink(tmpl.c_str()); });
    const int raw = fd.get();

    uint64_t total = 0;
    auto fetch = [&](std::optional<std::pair<uint64_t, uint64_t>> range) {
        uint64_t base = range ? range->first : 0;
        uint64_t written = 0;
        Call call{.operation = "GetObject",
                  .method = "GET",
                  .bucket = bucket,
                  .key = key,
                  .make_sink = [raw, base, &written] {
                      written = 0;
                      return [raw, base, &written](std::string_view chunk) {
                          pwrite_all(raw, chunk, base + written);
                          written += chunk.size();
                      };
                  }};
        if (range) {
            call.headers["Range"] =
                "bytes=" + std::to_string(range->first) + "-" + std::to_string(range->second);
        }
        HttpResponse resp = execute(call);
        if (!resp.ok()) {
            fail(call, resp);
        }
        if (range && (resp.status != 206 || written != range->second - range->first + 1)) {
            throw S3Error({.operation = "GetObject",
                           .status = resp.status,
                           .code = "InvalidResponse",
                           .message = "ranged GET returned " + std::to_string(written) +
                                      " bytes with HTTP " + std::to_string(resp.status),
                           .bucket = bucket,
                           .key = key});
        }
        total = std::max(total, base + written);
    };
    try {
        if (!info || info->size <= options_.download_chunk) {
            // Missing object: the GET reports the precise error (NoSuchKey / NoSuchBucket).
            fetch(std::nullopt);
        } else {
            for (uint64_t off = 0; off < info->size; off += options_.download_chunk) {
                uint64_t end = std::min(info->size, off + options_.download_chunk) - 1;
                fetch(std::make_pair(off, end));
            }
        }
    } catch (const S3Error&) {
        throw;
    } catch (const util::Error& e) {
        invalid("GetObject", bucket, key, path.string() + ": " + e.what());
    }
    if (info && total != info->size) {
        throw S3Error({.operation = "GetObject",
                       .code = "IncompleteBody",
                       .message = "got " + std::to_string(total) + " of " +
                                  std::to_string(info->size) + " bytes",
                       .bucket = bucket,
                       .key = key});
    }
    if (::fsync(raw) != 0 || ::rename(tmpl.c_str(), path.c_str()) != 0) {
        invalid("GetObject", bucket, key,
                "cannot store " + path.string() + ": " + std::strerror(errno));
    }
    remove_tmp.cancel();
    return total;
}

std::optional<ObjectInfo> S3Client::head_object(const std::string& bucket, const std::string& key) {
    check_key("HeadObject", bucket, key);
    Call call{.operation = "HeadObject", .method = "HEAD", .bucket = bucket, .key = key};
    HttpResponse resp = execute(call);
    if (resp.error.empty() && resp.status == 404) {
        return std::nullopt;
    }
    if (!resp.ok()) {
        fail(call, resp);
    }
    ObjectInfo info{.key = key,
                    .etag = strip_quotes(header(resp, "etag")),
                    .last_modified = header(resp, "last-modified")};
    std::string len = header(resp, "content-length");
    auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), info.size);
    if (len.empty() || ec != std::errc() || ptr != len.data() + len.size()) {
        throw S3Error(
            {.operation = call.operation,
             .status = resp.status,
             .code = "InvalidResponse",
             .message = "HeadObject answer has a bad Content-Length '" + len.substr(0, 32) + "'",
             .bucket = bucket,
             .key = key});
    }
    return info;
}

ListPage S3Client::list_objects_v2_page(const std::string& bucket, const std::string& prefix,
                                        const std::string& continuation_token, int max_keys) {
    check_bucket("ListObjectsV2", bucket);
    if (max_keys < 1 || max_keys > 1000) {
        invalid("ListObjectsV2", bucket, "", "max_keys must be within 1..1000");
    }
    Call call{.operation = "ListObjectsV2",
              .method = "GET",
              .bucket = bucket,
              .query = {{"list-type", "2"},
                        {"max-keys", std::to_string(max_keys)},
                        {"encoding-type", "url"}},
              .max_body_bytes = HttpRequest::kDefaultMaxBodyBytes};
    if (!prefix.empty()) {
        call.query["prefix"] = prefix;
    }
    if (!continuation_token.empty()) {
        call.query["continuation-token"] = continuation_token;
    }
    HttpResponse resp = execute(call);
    if (!resp.ok()) {
        fail(call, resp);
    }
    return parse_or_fail(call.operation, bucket, "",
                         [&] { return internal::parse_list_v2(resp.body); });
}

std::vector<ObjectInfo> S3Client::list_objects_v2(const std::string& bucket,
                                                  const std::string& prefix, int page_size) {
    std::vector<ObjectInfo> all;
    std::string token;
    for (;;) {
        ListPage page = list_objects_v2_page(bucket, prefix, token, page_size);
        std::move(page.objects.begin(), page.objects.end(), std::back_inserter(all));
        if (!page.truncated) {
            return all;
        }
        if (page.next_continuation_token == token) {
            throw S3Error({.operation = "ListObjectsV2",
                           .code = "InvalidResponse",
                           .message = "server repeated the continuation token",
                           .bucket = bucket});
        }
        token = std::move(page.next_continuation_token);
    }
}

std::vector<ObjectVersion> S3Client::list_object_versions(const std::string& bucket,
                                                          const std::string& prefix) {
    check_bucket("ListObjectVersions", bucket);
    std::vector<ObjectVersion> all;
    std::string key_marker;
    std::string version_marker;
    for (;;) {
        Call call{.operation = "ListObjectVersions",
                  .method = "GET",
                  .bucket = bucket,
                  .query = {{"versions", ""}, {"encoding-type", "url"}},
                  .max_body_bytes = HttpRequest::kDefaultMaxBodyBytes};
        if (!prefix.empty()) {
            call.query["prefix"] = prefix;
        }
        if (!key_marker.empty()) {
            call.query["key-marker"] = key_marker;
            if (!version_marker.empty()) {
                call.query["version-id-marker"] = version_marker;
            }
        }
        HttpResponse resp = execute(call);
        bool unsupported = false;
        if (resp.error.empty() && (resp.status == 405 || resp.status == 501)) {
            unsupported = true;
        } else if (!resp.ok()) {
            auto err = internal::parse_error(resp.body);
            unsupported = err && (err->code == "NotImplemented" || err->code == "MethodNotAllowed");
            if (!unsupported) {
                fail(call, resp);
            }
        } else {
            // A server that ignores "?versions" answers with a plain object listing.
            std::string root = parse_or_fail(call.operation, bucket, "",
                                             [&] { return internal::root_name(resp.body); });
            unsupported = root == "ListBucketResult";
        }
        if (unsupported) {
            if (!all.empty()) {
                throw S3Error({.operation = call.operation,
                               .code = "InvalidResponse",
                               .message = "server stopped supporting ListObjectVersions midway",
                               .bucket = bucket});
            }
            util::logger("s3")->debug(
                "{}: server has no ListObjectVersions, listing objects as version \"null\"",
                bucket);
            for (auto& o : list_objects_v2(bucket, prefix)) {
                all.push_back(ObjectVersion{.key = std::move(o.key),
                                            .version_id = "null",
                                            .is_latest = true,
                                            .is_delete_marker = false,
                                            .size = o.size});
            }
            return all;
        }
        VersionsPage page = parse_or_fail(call.operation, bucket, "",
                                          [&] { return internal::parse_list_versions(resp.body); });
        std::move(page.versions.begin(), page.versions.end(), std::back_inserter(all));
        if (!page.truncated) {
            return all;
        }
        if (page.next_key_marker == key_marker && page.next_version_id_marker == version_marker) {
            throw S3Error({.operation = call.operation,
                           .code = "InvalidResponse",
                           .message = "server repeated the listing markers",
                           .bucket = bucket});
        }
        key_marker = std::move(page.next_key_marker);
        version_marker = std::move(page.next_version_id_marker);
    }
}

void S3Client::delete_object(const std::string& bucket, const std::string& key,
                             const std::string& version_id) {
    check_key("DeleteObject", bucket, key);
    Call call{.operation = "DeleteObject", .method = "DELETE", .bucket = bucket, .key = key};
    if (!version_id.empty()) {
        call.query["versionId"] = version_id;
    }
    HttpResponse resp = execute(call);
    if (!resp.ok()) {
        fail(call, resp);
    }
}

DeleteResult S3Client::delete_objects(const std::string& bucket,
                                      const std::vector<ObjectId>& objects, size_t batch_size) {
    check_bucket("DeleteObjects", bucket);
    if (batch_size < 1 || batch_size > kMaxDeleteBatch) {
        invalid("DeleteObjects", bucket, "", "batch_size must be within 1..1000");
    }
    for (const auto& o : objects) {
        check_key("DeleteObjects", bucket, o.key);
    }
    DeleteResult out;
    for (size_t start = 0; start < objects.size(); start += batch_size) {
        std::vector<ObjectId> batch(objects.begin() + static_cast<std::ptrdiff_t>(start),
                                    objects.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                          objects.size(), start + batch_size)));
        std::string body = parse_or_fail("DeleteObjects", bucket, "",
                                         [&] { return internal::build_delete_body(batch); });
        Call call{.operation = "DeleteObjects",
                  .method = "POST",
                  .bucket = bucket,
                  .query = {{"delete", ""}},
                  .headers = {{"Content-MD5", util::base64(util::md5(body))},
                              {"Content-Type", "application/xml"}},
                  .body = body};
        HttpResponse resp = execute(call);
        if (!resp.ok()) {
            fail(call, resp);
        }
        DeleteResult part = parse_or_fail(call.operation, bucket, "",
                                          [&] { return internal::parse_delete_result(resp.body); });
        std::move(part.deleted.begin(), part.deleted.end(), std::back_inserter(out.deleted));
        std::move(part.errors.begin(), part.errors.end(), std::back_inserter(out.errors));
    }
    return out;
}

}  // namespace s3
