// karton/storage.hpp — resource content in object storage (spec §4.3, §7.1 step 5, §10
// "Resource access", §13): upload of local resources, download to memory or to a file, and
// extraction of directory (ZIP) resources, through s3::S3Client.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "karton/resource.hpp"
#include "s3/client.hpp"

namespace karton {

// Storage wraps one S3 client (not owned; must outlive Storage) and the default bucket of
// [s3] bucket. Not thread-safe (the client is not).
class Storage {
  public:
    Storage(s3::S3Client& client, std::string default_bucket)
        : client_(client), default_bucket_(std::move(default_bucket)) {}

    s3::S3Client& client() { return client_; }
    const std::string& default_bucket() const { return default_bucket_; }

    // upload puts a local resource's content at (bucket, uid) in one PUT (files are streamed).
    // Remote resources are not uploaded (no-op, §4.3 "uploads nothing"). Throws ResourceError
    // when the resource has no bucket, s3::S3Error when the upload fails.
    void upload(const Resource& r);

    // download returns the whole content (GetObject). Throws ResourceError for a resource
    // without bucket, s3::S3Error on failure (e.g. NoSuchKey, ObjectTooLarge).
    std::string download(const Resource& r);

    // download_to_file writes the content to `path` (HEAD + GET or ranged GETs, atomic
    // rename) and returns the byte count. Throws as download(); with `max_size`, an object
    // stored larger than that is refused before download (s3::S3Error "ObjectTooLarge").
    std::uint64_t download_to_file(const Resource& r, const std::filesystem::path& path,
                                   std::optional<std::uint64_t> max_size = std::nullopt);

    // extract_directory downloads a directory resource (flag "Directory") and unpacks it into
    // the existing directory `dest` with extract_zip's safety rules; returns files written.
    // Throws ResourceError when the resource is not a directory resource or the archive is
    // unsafe/oversized, s3::S3Error on download failure.
    std::size_t extract_directory(const Resource& r, const std::filesystem::path& dest,
                                  ExtractLimits limits = {});

  private:
    const std::string& bucket_of(const Resource& r) const;

    s3::S3Client& client_;
    std::string default_bucket_;
};

}  // namespace karton
