// karton/resource.hpp — resource references inside task payloads (spec §4.3): the Resource
// value, conversion to/from the `{"__karton_resource__": {...}}` marker, walking a payload for
// markers at any depth, local (not yet uploaded) sources, and directory resources (ZIP archives
// made with libzip, plus safe extraction).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "karton/errors.hpp"
#include "karton/json.hpp"
#include "util/ids.hpp"

namespace karton {

// kResourceMarker is the key that turns an object into a resource reference.
inline constexpr std::string_view kResourceMarker = "__karton_resource__";
// kDirectoryFlag marks a ZIP archive made from a directory.
inline constexpr std::string_view kDirectoryFlag = "Directory";

// LocalPath / LocalBytes: content of a resource that still has to be uploaded.
struct LocalPath {
    std::filesystem::path path;
};
struct LocalBytes {
    std::string bytes;
};

// Resource is one reference to an S3 object (the seven marker fields) plus, for resources
// created locally and not uploaded yet, where the content comes from.
struct Resource {
    std::string uid;                    // S3 object key
    std::string name;                   // display / file name
    std::optional<std::string> bucket;  // nullopt: filled with the default bucket at send time
    std::optional<std::int64_t> size;   // bytes; nullopt for legacy resources
    json::Object metadata;              // written with "sha256" always present
    std::vector<std::string> flags;     // ["Directory"] for directory archives
    std::optional<std::string> sha256;  // lower-case hex of the content
    // Local source: monostate = remote (already in S3).
    std::variant<std::monostate, LocalPath, LocalBytes> local;

    bool is_local() const { return local.index() != 0; }
    bool is_directory() const;

    // to_marker returns {"__karton_resource__": {bucket, flags, metadata, name, sha256, size,
    // uid}} with metadata.sha256 set to `sha256` (spec §4.3 writing rule).
    json::Value to_marker() const;

    // Equality of the marker fields (the local source is ignored).
    bool same_reference(const Resource& o) const;
};

// is_resource_marker: the value is an object containing the "__karton_resource__" key.
bool is_resource_marker(const json::Value& v);

// resource_from_marker reads a marker object (spec §4.3 reading rules): other keys next to the
// marker are ignored; `uid`, `name` (strings) and `bucket` (string or null) are required;
// metadata defaults to {}, a top-level "sha256" overrides metadata.sha256, size defaults to null
// (must be an integer otherwise), flags default to [] (must be strings). The result is remote.
// Throws ResourceError naming the bad field.
Resource resource_from_marker(const json::Value& marker);

// normalize_resources replaces every marker at any depth of `v` (objects and arrays) with its
// normalized seven-field form, exactly as the reference writes a parsed task back.
// Throws ResourceError.
void normalize_resources(json::Value& v);
void normalize_resources(json::Object& o);

// for_each_resource calls `fn` with the inner object of every marker found at any depth of `v`
// (the object under "__karton_resource__"), in document order; `fn` may modify it (e.g. fill
// in the bucket after upload). Markers are not searched inside markers.
void for_each_resource(json::Value& v, const std::function<void(json::Object& inner)>& fn);
void for_each_resource(json::Object& o, const std::function<void(json::Object& inner)>& fn);

// find_resources returns every resource referenced at any depth of `v` (document order,
// duplicates kept). Throws ResourceError for a malformed marker.
std::vector<Resource> find_resources(const json::Value& v);
std::vector<Resource> find_resources(const json::Object& o);

struct LocalResourceOptions {
    std::optional<std::string> bucket{};  // explicit bucket; default: filled in at send time
    std::optional<std::string> uid{};     // explicit object key; default: ids.uuid4()
    json::Object metadata{};
    // Explicit sha256 beats metadata.sha256, which beats hashing the content.
    std::optional<std::string> sha256{};
    std::vector<std::string> flags{};
};

// resource_from_bytes creates a local resource holding `content` (size and sha256 computed).
// Throws ResourceError for empty content (the reference cannot create those either).
Resource resource_from_bytes(std::string name, std::string content, util::IdSource& ids,
                             LocalResourceOptions opts = {});

// resource_from_file creates a local resource that uploads the file at `path` (size and sha256
// read now). Throws ResourceError when the file is missing, unreadable or empty.
Resource resource_from_file(std::string name, const std::filesystem::path& path,
                            util::IdSource& ids, LocalResourceOptions opts = {});

// resource_from_directory zips every regular file below `dir` (deflate, paths relative to it,
// '/' separators, sorted) and returns a local in-memory resource with flag "Directory".
// Symlinks are not followed (skipped). Throws ResourceError when `dir` is not a directory.
Resource resource_from_directory(std::string name, const std::filesystem::path& dir,
                                 util::IdSource& ids, LocalResourceOptions opts = {});

// zip_directory returns the ZIP archive bytes of the regular files below `dir` (as above).
std::string zip_directory(const std::filesystem::path& dir);

struct ExtractLimits {
    std::uint64_t max_total_bytes = 4ull << 30;  // sum of uncompressed sizes
    std::uint64_t max_entries = 100000;
};

// extract_zip unpacks ZIP `archive` bytes into the existing directory `dest`. Rejects (throws
// ResourceError, naming the entry) absolute paths, ".." components, backslashes, symlink
// entries, archives above `limits`; creates intermediate directories. Returns the number of
// files written.
std::size_t extract_zip(std::string_view archive, const std::filesystem::path& dest,
                        ExtractLimits limits = {});

}  // namespace karton
