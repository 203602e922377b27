// s3/client.hpp — S3Client: the object-storage operations karton and drakrun need (spec §13:
// HeadBucket, CreateBucket, PutObject, GetObject, ranged download, ListObjectsV2,
// ListObjectVersions and DeleteObjects for GC §9.2), path-style addressing, SigV4 signing,
// retries of transient failures. Every failure is an s3::S3Error.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3/error.hpp"
#include "s3/http_transport.hpp"
#include "s3/types.hpp"
#include "util/clock.hpp"

namespace s3 {

// Options configures an S3Client. Only endpoint and the keys are required.
struct Options {
    static constexpr uint64_t kMiB = 1024 * 1024;
    static constexpr uint64_t kDefaultMultipartThreshold = 64 * kMiB;
    static constexpr uint64_t kDefaultPartSize = 64 * kMiB;
    static constexpr uint64_t kMinPartSize = 5 * kMiB;  // S3 minimum (all parts but the last)
    static constexpr uint64_t kDefaultDownloadChunk = 8 * kMiB;  // as the reference (§13)
    static constexpr uint64_t kDefaultMaxInMemoryObject = 1024 * kMiB;
    static constexpr int kDefaultMaxRetries = 3;
    static constexpr std::chrono::milliseconds kDefaultRetryDelay{200};

    std::string endpoint{};  // "http(s)://host[:port]" (no path); path-style addressing
    std::string access_key{};
    std::string secret_key{};
    std::string region = "us-east-1";
    // Files larger than this are uploaded with multipart upload in parts of part_size bytes
    // (part_size is raised when the file would need more than 10000 parts).
    uint64_t multipart_threshold = kDefaultMultipartThreshold;
    uint64_t part_size = kDefaultPartSize;
    // download_file fetches objects larger than this with ranged GETs of this size.
    uint64_t download_chunk = kDefaultDownloadChunk;
    // get_object refuses bodies larger than this (use download_file).
    uint64_t max_in_memory_object = kDefaultMaxInMemoryObject;
    // Transient failures (no answer, HTTP 429/500/502/503/504, 400 RequestTimeout) are retried this
    // many times with exponential backoff starting at retry_delay. 0 disables retries.
    int max_retries = kDefaultMaxRetries;
    std::chrono::milliseconds retry_delay = kDefaultRetryDelay;
    std::chrono::milliseconds connect_timeout = HttpRequest::kDefaultConnectTimeout;
    std::chrono::seconds idle_timeout = HttpRequest::kDefaultIdleTimeout;
};

// S3Client talks to one S3 endpoint. Not thread-safe: use one client per thread (or guard it).
class S3Client {
  public:
    // Uses `transport` (CurlTransport when null) and `clock` for request dates. Throws S3Error
    // (code InvalidInput) when the endpoint is not "http(s)://host[:port]" or a key is empty or
    // the sizes are out of range.
    explicit S3Client(Options options, std::unique_ptr<HttpTransport> transport = nullptr,
                      util::Clock& clock = util::system_clock());
    ~S3Client();
    S3Client(const S3Client&) = delete;
    S3Client& operator=(const S3Client&) = delete;

    const Options& options() const { return options_; }

    // bucket_exists: HEAD /bucket. true on 2xx, false on 404; throws S3Error otherwise.
    bool bucket_exists(const std::string& bucket);

    // create_bucket: PUT /bucket. Succeeds when the bucket already exists and is ours
    // (BucketAlreadyOwnedByYou); throws S3Error otherwise.
    void create_bucket(const std::string& bucket);

    // ensure_bucket makes sure `bucket` exists and is reachable with our credentials; true
    // when this call created it. Safe when several processes start at once (drakrun@1..N,
    // router + GC instances): a create that loses the race gets 409 BucketAlreadyExists from
    // s3rver and AWS alike, so a 409 is accepted when a second HEAD then finds the bucket.
    bool ensure_bucket(const std::string& bucket);
    // create_missing_bucket is ensure_bucket for a caller whose own HEAD just found the bucket
    // missing: PUT, with the same 409 tolerance; true when this call created it.
    bool create_missing_bucket(const std::string& bucket);

    // put_object stores `data` in one PUT (with Content-MD5) and returns the ETag (unquoted).
    std::string put_object(const std::string& bucket, const std::string& key,
                           std::string_view data);

    // put_file streams a file without loading it: one PUT up to multipart_threshold bytes,
    // multipart upload above (aborted on failure). Returns the ETag (unquoted). Throws
    // S3Error; a file that cannot be read gives code InvalidInput.
    std::string put_file(const std::string& bucket, const std::string& key,
                         const std::filesystem::path& path);

    // get_object returns the whole object. Throws S3Error (NoSuchKey, NoSuchBucket, ...), and
    // code ObjectTooLarge above max_in_memory_object bytes.
    std::string get_object(const std::string& bucket, const std::string& key);

    // get_object_range returns bytes [first, last] (inclusive; to the end when last is
    // nullopt) with a Range request. Throws S3Error (InvalidRange past the end).
    std::string get_object_range(const std::string& bucket, const std::string& key, uint64_t first,
                                 std::optional<uint64_t> last = std::nullopt);

    // download_file writes the object to `path` (atomically: temp file + rename), streaming;
    // objects above download_chunk bytes are fetched with ranged GETs (HEAD first, like the
    // reference). Returns the number of bytes written. With `max_size`, an object the HEAD
    // reports larger than that is refused before any byte is fetched: S3Error with code
    // "ObjectTooLarge" (status 0, nothing written).
    uint64_t download_file(const std::string& bucket, const std::string& key,
                           const std::filesystem::path& path,
                           std::optional<uint64_t> max_size = std::nullopt);

    // head_object returns size/etag/last-modified, or nullopt on 404 (missing key or bucket).
    std::optional<ObjectInfo> head_object(const std::string& bucket, const std::string& key);

    // list_objects_v2_page returns one page of at most max_keys (1..1000) objects under
    // `prefix`, continuing after `continuation_token` (empty for the first page).
    ListPage list_objects_v2_page(const std::string& bucket, const std::string& prefix,
                                  const std::string& continuation_token, int max_keys = 1000);

    // list_objects_v2 returns every object under `prefix`, following pagination with pages of
    // page_size keys.
    std::vector<ObjectInfo> list_objects_v2(const std::string& bucket,
                                            const std::string& prefix = "", int page_size = 1000);

    // list_object_versions returns every version and delete marker under `prefix`
    // (GET /bucket?versions&encoding-type=url, paginated; spec §9.2).
    // Compat: servers without versioning support (s3rver answers MethodNotAllowed, others
    // NotImplemented) are listed with ListObjectsV2 instead and every object is reported as
    // its latest version with version id "null", which is what S3 reports for an unversioned
    // bucket.
    std::vector<ObjectVersion> list_object_versions(const std::string& bucket,
                                                    const std::string& prefix = "");

    // delete_object removes a key (or one version of it). Deleting a missing key succeeds.
    void delete_object(const std::string& bucket, const std::string& key,
                       const std::string& version_id = "");

    // delete_objects removes objects with POST /bucket?delete in batches of at most
    // batch_size (1..1000; karton GC uses 100) with a Content-MD5 header. Per-key failures are
    // returned in DeleteResult::errors; a failed request throws S3Error.
    DeleteResult delete_objects(const std::string& bucket, const std::vector<ObjectId>& objects,
                                size_t batch_size = kMaxDeleteBatch);

    static constexpr size_t kMaxDeleteBatch = 1000;

  private:
    struct Call;
    HttpResponse execute(const Call& call);
    [[noreturn]] void fail(const Call& call, const HttpResponse& resp) const;
    std::string object_url(const std::string& bucket, const std::string& key,
                           const std::map<std::string, std::string>& query) const;
    std::string upload_multipart(const std::string& bucket, const std::string& key, int fd,
                                 uint64_t size);

    Options options_;
    std::unique_ptr<HttpTransport> transport_;
    util::Clock* clock_;
};

}  // namespace s3
