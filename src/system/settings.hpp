// system/settings.hpp — drak-system configuration: the karton-system [system] options of spec
// §1.6 (gc_interval, timeouts, enable_gc/router, task tracking, null-version deletion) plus
// drak-system's own router knobs, and the ServiceSettings ([redis], [s3], [logging]) derived
// from a loaded karton::Config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "karton/config.hpp"
#include "karton/gc_policy.hpp"
#include "karton/producer.hpp"

namespace drak_system {

// SystemConfig holds every option drak-system reads. Defaults are karton-system 5.9.1's.
struct SystemConfig {
    // [system] options (§1.6).
    std::int64_t gc_interval = 180;  // seconds between GC runs; the first run is one interval in
    karton::GcTimeouts timeouts{};
    bool enable_gc = true;
    bool enable_router = true;
    bool enable_null_version_deletion = false;
    bool enable_task_tracking = true;
    std::int64_t task_tracking_ttl = 2592000;
    // drak-system options ([system] keys not known to karton-system).
    // instance names this router's processing lists (karton.system.processing:<instance>);
    // must be stable across restarts and unique among concurrently running routers.
    std::string instance = "main";
    // router_batch: unrouted tasks taken per routing batch (reference: 1 + 100). 1..5000.
    std::size_t router_batch = 101;
    // poll_timeout: seconds a blocking wait for new tasks lasts before GC/stop checks (>= 1).
    int poll_timeout = 1;
    // gc_scan_count: SCAN COUNT hint and MGET chunk size of the GC task scan (reference 1000).
    std::size_t gc_scan_count = 1000;
    // task_stranded_grace: seconds a Spawned task may sit in no queue before GC pushes it back
    // (see GcConfig::stranded_grace); 0 = never, as karton-system.
    std::int64_t task_stranded_grace = 600;
};

// system_config reads [system] from `cfg` (absent options keep their defaults). Typed getters
// follow Python semantics (§1.4). Throws karton::ConfigError for malformed values or values
// out of range (negative intervals/timeouts, router_batch outside 1..5000, an invalid instance).
SystemConfig system_config(const karton::Config& cfg);

// service_settings derives the Redis/S3/logging settings of karton.system (§1.6, §2.1 client
// name "karton.system?karton_version=5.9.1&service_version=5.9.1"). Throws karton::ConfigError
// when [redis] or [s3] is incomplete, or [s3] bucket is missing (karton-system requires it),
// karton::RedisError for a malformed/unsupported redis url.
karton::ServiceSettings service_settings(const karton::Config& cfg, const karton::Environment& env);

// kSystemIdentity is karton-system's identity (logger name and client name prefix).
inline constexpr const char* kSystemIdentity = "karton.system";
// kKartonVersion is the library/service version karton-system reports (§2.1).
inline constexpr const char* kSystemVersion = "5.9.1";

}  // namespace drak_system
