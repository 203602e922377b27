// karton/producer.hpp — sending tasks (spec §7.1): merge from the task being processed (§4.4),
// origin/last_update, default bucket for new local resources, SET (Declared), upload local
// resources to S3, RPUSH karton.tasks, HINCRBY karton.metrics.produced. Also ServiceSettings,
// the resolved connection settings every Karton service needs.
//
//   karton::Producer producer(settings, "karton.my-producer");
//   karton::Task t = karton::new_task({{"type", "sample"}, {"kind", "raw"}}, ids, clock);
//   t.payload.set("sample", t.attach_resource(karton::resource_from_file("x.exe", path, ids)));
//   producer.send_task(t);
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "karton/backend.hpp"
#include "karton/log_publisher.hpp"
#include "karton/storage.hpp"
#include "karton/task.hpp"
#include "s3/client.hpp"
#include "util/clock.hpp"

namespace karton {

// ServiceSettings: the resolved [redis], [s3], [logging] and [karton] values a service uses
// (spec §1.6). Built from karton.ini by the config layer, or directly in tests.
struct ServiceSettings {
    RedisOptions redis;
    s3::Options s3;
    std::string bucket;          // [s3] bucket: default bucket of new resources
    bool enable_publish = true;  // [logging] enable_publish
    LogLevel log_level = LogLevel::Info;
    // [karton] section (spec §1.6), applied by Consumer:
    std::optional<std::string> identity;   // identity: overrides the service's own identity
    bool debug = false;                    // debug: "<identity>-<hex8>-dev", non-persistent,
                                           // no log publishing
    std::optional<bool> persistent;        // persistent: overrides the bind's persistence
    std::chrono::seconds task_timeout{0};  // task_timeout: per-task limit, 0 = unlimited
};

// Producer sends tasks as one identity. Not thread-safe.
class Producer {
  public:
    // Owning form: connects to Redis as `identity` (client name, §2.1) and creates an S3
    // client. Throws RedisError / s3::S3Error when either cannot be set up.
    Producer(const ServiceSettings& settings, std::string identity,
             util::Clock& clock = util::system_clock());
    // Borrowing form (consumers): uses `backend` and `storage`, which must outlive it.
    Producer(Backend& backend, Storage& storage, std::string identity, util::Clock& clock);
    ~Producer();
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    // send_task follows §7.1 exactly: prepare_for_send (child merge when `processing` is the
    // task being processed, origin, last_update), default bucket for local resources without
    // one, SET karton.task:<uid> (status as held, normally Declared), upload every local
    // resource, RPUSH karton.tasks <uid>, HINCRBY karton.metrics.produced <identity> 1.
    // Not transactional: on failure the task may stay Declared in Redis (GC removes it).
    // Throws ResourceError (local resource without any bucket), s3::S3Error (upload),
    // RedisError (Redis).
    void send_task(Task& task, const Task* processing = nullptr);

    const std::string& identity() const { return identity_; }
    Backend& backend() { return *backend_; }
    Storage& storage() { return *storage_; }

  private:
    std::unique_ptr<Backend> owned_backend_;
    std::unique_ptr<s3::S3Client> owned_s3_;
    std::unique_ptr<Storage> owned_storage_;
    Backend* backend_;
    Storage* storage_;
    std::string identity_;
    util::Clock& clock_;
};

}  // namespace karton
