// system/service.hpp — the drak-system service loop (karton-system replacement): start-up
// bucket check (spec §9.3), effective-config log line, routing iterations (§7.2, §12.1) and GC
// every gc_interval seconds (§9), in one thread on one Redis connection named
// "karton.system?karton_version=5.9.1&service_version=5.9.1" (§2.1). Stops cleanly on request.
#pragma once

#include <atomic>
#include <memory>

#include "karton/backend.hpp"
#include "karton/producer.hpp"
#include "s3/client.hpp"
#include "system/gc.hpp"
#include "system/router.hpp"
#include "system/settings.hpp"
#include "system/system_log.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/ids.hpp"

namespace drak_system {

// BucketMissingError: the Karton bucket does not exist and --setup-bucket was not given.
class BucketMissingError : public util::Error {
  public:
    using util::Error::Error;
};

// SystemService owns the connection, the S3 client, the router and the collector.
class SystemService {
  public:
    // Connects to Redis (throws karton::RedisError) and creates the S3 client (throws
    // s3::S3Error on bad options). Throws util::Error when both router and GC are disabled.
    SystemService(const karton::ServiceSettings& settings, SystemConfig config,
                  bool setup_bucket = false, util::Clock& clock = util::system_clock(),
                  util::IdSource& ids = util::random_ids());
    ~SystemService();
    SystemService(const SystemService&) = delete;
    SystemService& operator=(const SystemService&) = delete;

    // run: HeadBucket (CreateBucket with setup_bucket, else BucketMissingError), log the
    // effective config, then loop until `stop` is true: route (blocking at most poll_timeout
    // seconds) and run GC when gc_interval has passed since start-up / the previous run. A
    // batch in progress is always finished before returning. Redis connection failures are
    // logged and retried with backoff (the uncommitted batch is resumed). Throws
    // BucketMissingError, s3::S3Error from the start-up check.
    void run(const std::atomic<bool>& stop);

    Router* router() { return router_.get(); }
    GarbageCollector* gc() { return gc_.get(); }
    karton::Backend& backend() { return *backend_; }

  private:
    void ensure_bucket();
    void log_config();

    karton::ServiceSettings settings_;
    SystemConfig config_;
    bool setup_bucket_;
    util::Clock& clock_;
    std::unique_ptr<karton::Backend> backend_;
    std::unique_ptr<s3::S3Client> s3_;
    std::unique_ptr<SystemLog> log_;
    std::unique_ptr<Router> router_;
    std::unique_ptr<GarbageCollector> gc_;
};

}  // namespace drak_system
