#include "karton/producer.hpp"

namespace karton {
namespace {

RedisOptions named(RedisOptions o, const std::string& identity) {
    o.client_name = identity;
    return o;
}

}  // namespace

Producer::Producer(const ServiceSettings& settings, std::string identity, util::Clock& clock)
    : owned_backend_(std::make_unique<Backend>(named(settings.redis, identity))),
      owned_s3_(std::make_unique<s3::S3Client>(settings.s3)),
      owned_storage_(std::make_unique<Storage>(*owned_s3_, settings.bucket)),
      backend_(owned_backend_.get()),
      storage_(owned_storage_.get()),
      identity_(std::move(identity)),
      clock_(clock) {}

Producer::Producer(Backend& backend, Storage& storage, std::string identity, util::Clock& clock)
    : backend_(&backend), storage_(&storage), identity_(std::move(identity)), clock_(clock) {}

Producer::~Producer() = default;

void Producer::send_task(Task& task, const Task* processing) {
    prepare_for_send(task, processing, identity_, clock_);

    // §7.1 step 3: local resources without a bucket get the default bucket, both in the
    // local-source table and in every marker that references them.
    const std::string& default_bucket = storage_->default_bucket();
    for (auto& [uid, res] : task.local_resources) {
        if (!res.bucket) {
            if (default_bucket.empty()) {
                throw ResourceError("resource " + uid + " (" + res.name +
                                    ") has no bucket and no default [s3] bucket is configured");
            }
            res.bucket = default_bucket;
        }
    }
    auto fill = [&](json::Object& inner) {
        const json::Value* uid = inner.find("uid");
        json::Value* bucket = inner.find("bucket");
        if (uid == nullptr || !uid->is_string() || (bucket != nullptr && !bucket->is_null())) {
            return;
        }
        auto it = task.local_resources.find(uid->as_string());
        if (it != task.local_resources.end()) {
            inner.set("bucket", *it->second.bucket);
        }
    };
    for_each_resource(task.payload, fill);
    for_each_resource(task.payload_persistent, fill);

    backend_->set_task(task.uid, serialize_task(task));
    for (const auto& [uid, res] : task.local_resources) {
        storage_->upload(res);
    }
    backend_->push_unrouted(task.uid);
    backend_->increment_metric(Metric::Produced, identity_);
}

}  // namespace karton
