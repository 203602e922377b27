// s3/types.hpp — plain values returned by the S3 client: object listings, versions and the
// outcome of a batch delete (spec §13 and §9.2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace s3 {

// ObjectInfo is one object from HeadObject or ListObjectsV2. etag has no surrounding quotes.
struct ObjectInfo {
    std::string key{};
    uint64_t size = 0;
    std::string etag{};
    std::string last_modified{};  // as the server wrote it (ISO 8601 or RFC 1123)
};

// ObjectVersion is one entry of ListObjectVersions: a version or a delete marker.
// version_id is "null" for unversioned objects.
struct ObjectVersion {
    std::string key{};
    std::string version_id{};
    bool is_latest = false;
    bool is_delete_marker = false;
    uint64_t size = 0;
};

// ObjectId names an object (and optionally one version of it) for deletion; an empty
// version_id sends <Key> only.
struct ObjectId {
    std::string key{};
    std::string version_id{};
    bool operator==(const ObjectId&) const = default;
};

// DeleteError is a per-key failure reported inside a successful DeleteObjects answer.
struct DeleteError {
    std::string key{};
    std::string version_id{};
    std::string code{};
    std::string message{};
};

// DeleteResult collects the per-key outcome of one or more DeleteObjects requests.
struct DeleteResult {
    std::vector<ObjectId> deleted{};
    std::vector<DeleteError> errors{};
};

// ListPage is one page of ListObjectsV2.
struct ListPage {
    std::vector<ObjectInfo> objects{};
    bool truncated = false;
    std::string next_continuation_token{};
};

// VersionsPage is one page of ListObjectVersions.
struct VersionsPage {
    std::vector<ObjectVersion> versions{};
    bool truncated = false;
    std::string next_key_marker{};
    std::string next_version_id_marker{};
};

}  // namespace s3
