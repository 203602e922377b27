// karton/resource.cpp — resource markers, local sources and directory archives (spec §4.3).
#include "karton/resource.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include "util/crypto.hpp"
#include "util/fs.hpp"

namespace karton {

namespace {

struct ZipDeleter {
    void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipDeleter>;

struct ZipSourceDeleter {
    void operator()(zip_source_t* s) const { zip_source_free(s); }
};
using ZipSourcePtr = std::unique_ptr<zip_source_t, ZipSourceDeleter>;

struct ZipFileDeleter {
    void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileDeleter>;

std::string zip_error_text(zip_error_t* err) { return zip_error_strerror(err); }

[[noreturn]] void bad_field(const std::string& field, const std::string& why) {
    throw ResourceError("resource marker: field \"" + field + "\" " + why);
}

void apply_sha_rules(Resource& r, const LocalResourceOptions& opts, const std::string* content) {
    r.metadata = opts.metadata;
    if (opts.sha256) {
        r.sha256 = opts.sha256;
    } else if (const json::Value* m = r.metadata.find("sha256"); m != nullptr && m->is_string()) {
        r.sha256 = m->as_string();
    } else if (content != nullptr) {
        r.sha256 = util::sha256_hex(*content);
    }
}

}  // namespace

bool Resource::is_directory() const {
    return std::find(flags.begin(), flags.end(), kDirectoryFlag) != flags.end();
}

json::Value Resource::to_marker() const {
    json::Object inner;
    inner.reserve(7);
    inner.append_unchecked("bucket", bucket ? json::Value(*bucket) : json::Value());
    json::Array fl;
    fl.reserve(flags.size());
    for (const auto& f : flags) {
        fl.emplace_back(f);
    }
    inner.append_unchecked("flags", std::move(fl));
    json::Object md = metadata;
    md.set("sha256", sha256 ? json::Value(*sha256) : json::Value());
    inner.append_unchecked("metadata", std::move(md));
    inner.append_unchecked("name", name);
    inner.append_unchecked("sha256", sha256 ? json::Value(*sha256) : json::Value());
    inner.append_unchecked("size",
                           size ? json::Value(static_cast<long long>(*size)) : json::Value());
    inner.append_unchecked("uid", uid);
    json::Object outer;
    outer.append_unchecked(std::string(kResourceMarker), std::move(inner));
    return json::Value(std::move(outer));
}

bool Resource::same_reference(const Resource& o) const {
    return uid == o.uid && name == o.name && bucket == o.bucket && size == o.size &&
           metadata == o.metadata && flags == o.flags && sha256 == o.sha256;
}

bool is_resource_marker(const json::Value& v) {
    return v.is_object() && v.as_object().contains(kResourceMarker);
}

Resource resource_from_marker(const json::Value& marker) {
    if (!is_resource_marker(marker)) {
        throw ResourceError("resource marker: not an object with \"__karton_resource__\"");
    }
    const json::Value& innerv = *marker.as_object().find(kResourceMarker);
    if (!innerv.is_object()) {
        throw ResourceError(
            std::string("resource marker: \"__karton_resource__\" must be a dict, got ") +
            json::type_name(innerv.type()));
    }
    const json::Object& in = innerv.as_object();
    Resource r;
    const json::Value* v = in.find("uid");
    if (v == nullptr) {
        bad_field("uid", "is missing");
    }
    if (!v->is_string()) {
        bad_field("uid", "must be a string");
    }
    r.uid = v->as_string();
    v = in.find("name");
    if (v == nullptr) {
        bad_field("name", "is missing");
    }
    if (!v->is_string()) {
        bad_field("name", "must be a string");
    }
    r.name = v->as_string();
    v = in.find("bucket");
    if (v == nullptr) {
        bad_field("bucket", "is missing");
    }
    if (v->is_string()) {
        r.bucket = v->as_string();
    } else if (!v->is_null()) {
        bad_field("bucket", "must be a string or null");
    }
    if ((v = in.find("size")) != nullptr && !v->is_null()) {
        if (!v->is_int()) {
            bad_field("size", "must be an integer or null");
        }
        r.size = v->as_int();
    }
    if ((v = in.find("metadata")) != nullptr) {
        if (!v->is_object()) {
            bad_field("metadata", "must be a dict");
        }
        r.metadata = v->as_object();
    }
    if ((v = in.find("sha256")) != nullptr) {
        r.metadata.set("sha256", *v);
    }
    if (const json::Value* s = r.metadata.find("sha256"); s != nullptr && !s->is_null()) {
        if (!s->is_string()) {
            bad_field("sha256", "must be a string or null");
        }
        r.sha256 = s->as_string();
    }
    if ((v = in.find("flags")) != nullptr && !v->is_null()) {
        if (!v->is_array()) {
            bad_field("flags", "must be a list");
        }
        for (const auto& f : v->as_array()) {
            if (!f.is_string()) {
                bad_field("flags", "must hold strings");
            }
            r.flags.push_back(f.as_string());
        }
    }
    return r;
}

namespace {

// already_normalized: the marker is exactly the seven-field form to_marker() writes, so
// rebuilding it would give the same value (fast path for routers re-serializing tasks).
bool already_normalized(const json::Object& outer) {
    if (outer.size() != 1) {
        return false;
    }
    const json::Value& iv = outer.entries()[0].second;
    if (!iv.is_object()) {
        return false;
    }
    const json::Object& in = iv.as_object();
    if (in.size() != 7) {
        return false;
    }
    const json::Value* uid = in.find("uid");
    const json::Value* name = in.find("name");
    const json::Value* bucket = in.find("bucket");
    const json::Value* size = in.find("size");
    const json::Value* flags = in.find("flags");
    const json::Value* sha = in.find("sha256");
    const json::Value* md = in.find("metadata");
    if (uid == nullptr || !uid->is_string() || name == nullptr || !name->is_string() ||
        bucket == nullptr || !(bucket->is_string() || bucket->is_null()) || size == nullptr ||
        !(size->is_int() || size->is_null()) || flags == nullptr || !flags->is_array() ||
        sha == nullptr || !(sha->is_string() || sha->is_null()) || md == nullptr ||
        !md->is_object()) {
        return false;
    }
    for (const auto& f : flags->as_array()) {
        if (!f.is_string()) {
            return false;
        }
    }
    const json::Value* md_sha = md->as_object().find("sha256");
    return md_sha != nullptr && *md_sha == *sha;
}

}  // namespace

void normalize_resources(json::Object& o) {
    for (auto& e : o) {
        normalize_resources(e.second);
    }
}

void normalize_resources(json::Value& v) {
    if (v.is_object()) {
        if (is_resource_marker(v)) {
            if (!already_normalized(v.as_object())) {
                v = resource_from_marker(v).to_marker();
            }
            return;
        }
        normalize_resources(v.as_object());
    } else if (v.is_array()) {
        for (auto& x : v.as_array()) {
            normalize_resources(x);
        }
    }
}

void for_each_resource(json::Object& o, const std::function<void(json::Object&)>& fn) {
    for (auto& e : o) {
        for_each_resource(e.second, fn);
    }
}

void for_each_resource(json::Value& v, const std::function<void(json::Object&)>& fn) {
    if (v.is_object()) {
        json::Object& o = v.as_object();
        if (json::Value* inner = o.find(kResourceMarker)) {
            if (inner->is_object()) {
                fn(inner->as_object());
            }
            return;
        }
        for_each_resource(o, fn);
    } else if (v.is_array()) {
        for (auto& x : v.as_array()) {
            for_each_resource(x, fn);
        }
    }
}

namespace {

void collect(const json::Value& v, std::vector<Resource>& out) {
    if (v.is_object()) {
        if (is_resource_marker(v)) {
            out.push_back(resource_from_marker(v));
            return;
        }
        for (const auto& e : v.as_object()) {
            collect(e.second, out);
        }
    } else if (v.is_array()) {
        for (const auto& x : v.as_array()) {
            collect(x, out);
        }
    }
}

}  // namespace

std::vector<Resource> find_resources(const json::Value& v) {
    std::vector<Resource> out;
    collect(v, out);
    return out;
}

std::vector<Resource> find_resources(const json::Object& o) {
    std::vector<Resource> out;
    for (const auto& e : o) {
        collect(e.second, out);
    }
    return out;
}

Resource resource_from_bytes(std::string name, std::string content, util::IdSource& ids,
                             LocalResourceOptions opts) {
    if (content.empty()) {
        throw ResourceError("resource \"" + name + "\": empty content");
    }
    Resource r;
    r.uid = opts.uid ? *opts.uid : ids.uuid4();
    r.name = std::move(name);
    r.bucket = opts.bucket;
    r.size = static_cast<std::int64_t>(content.size());
    r.flags = opts.flags;
    apply_sha_rules(r, opts, &content);
    r.local = LocalBytes{std::move(content)};
    return r;
}

Resource resource_from_file(std::string name, const std::filesystem::path& path,
                            util::IdSource& ids, LocalResourceOptions opts) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw ResourceError("resource \"" + name + "\": not a regular file: " + path.string());
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        throw ResourceError("resource \"" + name + "\": cannot stat " + path.string() + ": " +
                            ec.message());
    }
    if (size == 0) {
        throw ResourceError("resource \"" + name + "\": empty file " + path.string());
    }
    Resource r;
    r.uid = opts.uid ? *opts.uid : ids.uuid4();
    r.name = std::move(name);
    r.bucket = opts.bucket;
    r.size = static_cast<std::int64_t>(size);
    r.flags = opts.flags;
    apply_sha_rules(r, opts, nullptr);
    if (!r.sha256) {
        r.sha256 = util::sha256_file_hex(path.string());
    }
    r.local = LocalPath{path};
    return r;
}

std::string zip_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw ResourceError("not a directory: " + dir.string());
    }
    std::vector<std::pair<std::string, std::filesystem::path>> files;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            throw ResourceError("cannot list " + dir.string() + ": " + ec.message());
        }
        if (it->is_symlink(ec) || !it->is_regular_file(ec)) {
            continue;
        }
        files.emplace_back(std::filesystem::relative(it->path(), dir).generic_string(), it->path());
    }
    if (ec) {
        throw ResourceError("cannot list " + dir.string() + ": " + ec.message());
    }
    std::sort(files.begin(), files.end());

    zip_error_t err;
    zip_error_init(&err);
    ZipSourcePtr src(zip_source_buffer_create(nullptr, 0, 0, &err));
    if (!src) {
        throw Error("zip_source_buffer_create: " + zip_error_text(&err));
    }
    ZipPtr za(zip_open_from_source(src.get(), ZIP_TRUNCATE, &err));
    if (!za) {
        throw Error("zip_open_from_source: " + zip_error_text(&err));
    }
    zip_source_keep(src.get());  // the archive owns one reference, we keep ours
    for (const auto& [rel, path] : files) {
        zip_source_t* fs = zip_source_file(za.get(), path.c_str(), 0, -1);
        if (fs == nullptr) {
            throw ResourceError("zip: cannot read " + path.string() + ": " +
                                zip_strerror(za.get()));
        }
        const zip_int64_t idx = zip_file_add(za.get(), rel.c_str(), fs, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(fs);
            throw Error("zip_file_add " + rel + ": " + zip_strerror(za.get()));
        }
        if (zip_set_file_compression(za.get(), static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 0) !=
            0) {
            throw Error("zip_set_file_compression " + rel + ": " + zip_strerror(za.get()));
        }
    }
    if (zip_close(za.get()) != 0) {
        throw ResourceError(std::string("zip_close: ") + zip_strerror(za.get()));
    }
    (void)za.release();  // zip_close freed it
    if (zip_source_open(src.get()) != 0) {
        throw Error("zip_source_open: " + zip_error_text(zip_source_error(src.get())));
    }
    std::string out;
    char buf[65536];
    for (;;) {
        const zip_int64_t n = zip_source_read(src.get(), buf, sizeof buf);
        if (n < 0) {
            zip_source_close(src.get());
            throw Error("zip_source_read: " + zip_error_text(zip_source_error(src.get())));
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    zip_source_close(src.get());
    return out;
}

Resource resource_from_directory(std::string name, const std::filesystem::path& dir,
                                 util::IdSource& ids, LocalResourceOptions opts) {
    std::string archive = zip_directory(dir);
    if (std::find(opts.flags.begin(), opts.flags.end(), kDirectoryFlag) == opts.flags.end()) {
        opts.flags.emplace_back(kDirectoryFlag);
    }
    return resource_from_bytes(std::move(name), std::move(archive), ids, std::move(opts));
}

namespace {

void check_entry_name(const std::string& name) {
    if (name.empty()) {
        throw ResourceError("zip entry with an empty name");
    }
    if (name.front() == '/' || name.find('\\') != std::string::npos ||
        name.find('\0') != std::string::npos || (name.size() >= 2 && name[1] == ':')) {
        throw ResourceError("zip entry \"" + name + "\": absolute or non-portable path");
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('/', start);
        if (end == std::string::npos) {
            end = name.size();
        }
        const std::string_view part(name.data() + start, end - start);
        if (part == "..") {
            throw ResourceError("zip entry \"" + name + "\": \"..\" path component");
        }
        start = end + 1;
    }
}

}  // namespace

std::size_t extract_zip(std::string_view archive, const std::filesystem::path& dest,
                        ExtractLimits limits) {
    zip_error_t err;
    zip_error_init(&err);
    ZipSourcePtr src(zip_source_buffer_create(archive.data(), archive.size(), 0, &err));
    if (!src) {
        throw Error("zip_source_buffer_create: " + zip_error_text(&err));
    }
    ZipPtr za(zip_open_from_source(src.get(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
    if (!za) {
        throw ResourceError("not a valid zip archive: " + zip_error_text(&err));
    }
    zip_source_keep(src.get());
    const zip_int64_t count = zip_get_num_entries(za.get(), 0);
    if (count < 0 || static_cast<std::uint64_t>(count) > limits.max_entries) {
        throw ResourceError("zip archive has too many entries (" + std::to_string(count) + ")");
    }
    std::uint64_t total = 0;
    std::size_t written = 0;
    std::vector<char> buf(65536);
    for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
        const char* raw = zip_get_name(za.get(), i, ZIP_FL_ENC_RAW);
        if (raw == nullptr) {
            throw ResourceError(std::string("zip entry name unreadable: ") +
                                zip_strerror(za.get()));
        }
        const std::string name(raw);
        check_entry_name(name);
        zip_uint8_t opsys = 0;
        zip_uint32_t attr = 0;
        if (zip_file_get_external_attributes(za.get(), i, 0, &opsys, &attr) == 0 &&
            opsys == ZIP_OPSYS_UNIX && ((attr >> 16) & S_IFMT) == S_IFLNK) {
            throw ResourceError("zip entry \"" + name + "\": symbolic links are not allowed");
        }
        const std::filesystem::path target = dest / name;
        std::error_code ec;
        if (name.back() == '/') {
            std::filesystem::create_directories(target, ec);
            if (ec) {
                throw ResourceError("zip entry \"" + name + "\": " + ec.message());
            }
            continue;
        }
        std::filesystem::create_directories(target.parent_path(), ec);
        if (ec) {
            throw ResourceError("zip entry \"" + name + "\": " + ec.message());
        }
        ZipFilePtr zf(zip_fopen_index(za.get(), i, 0));
        if (!zf) {
            throw ResourceError("zip entry \"" + name + "\": " + zip_strerror(za.get()));
        }
        util::UniqueFd fd(
            ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (fd.get() < 0) {
            util::throw_errno("open " + target.string());
        }
        for (;;) {
            const zip_int64_t n = zip_fread(zf.get(), buf.data(), buf.size());
            if (n < 0) {
                throw ResourceError("zip entry \"" + name + "\": " + zip_file_strerror(zf.get()));
            }
            if (n == 0) {
                break;
            }
            total += static_cast<std::uint64_t>(n);
            if (total > limits.max_total_bytes) {
                throw ResourceError("zip archive expands beyond " +
                                    std::to_string(limits.max_total_bytes) + " bytes");
            }
            const char* p = buf.data();
            std::size_t left = static_cast<std::size_t>(n);
            while (left > 0) {
                const ssize_t w = ::write(fd.get(), p, left);
                if (w < 0) {
                    if (errno == EINTR) {
                        continue;
                    }
                    util::throw_errno("write " + target.string());
                }
                p += w;
                left -= static_cast<std::size_t>(w);
            }
        }
        ++written;
    }
    return written;
}

}  // namespace karton
