#include "karton/storage.hpp"

#include "util/fs.hpp"

namespace karton {

const std::string& Storage::bucket_of(const Resource& r) const {
    if (!r.bucket || r.bucket->empty()) {
        throw ResourceError("resource " + r.uid + " (" + r.name + ") has no bucket");
    }
    return *r.bucket;
}

void Storage::upload(const Resource& r) {
    if (const auto* p = std::get_if<LocalPath>(&r.local)) {
        client_.put_file(bucket_of(r), r.uid, p->path);
    } else if (const auto* b = std::get_if<LocalBytes>(&r.local)) {
        client_.put_object(bucket_of(r), r.uid, b->bytes);
    }
}

std::string Storage::download(const Resource& r) { return client_.get_object(bucket_of(r), r.uid); }

std::uint64_t Storage::download_to_file(const Resource& r, const std::filesystem::path& path,
                                        std::optional<std::uint64_t> max_size) {
    return client_.download_file(bucket_of(r), r.uid, path, max_size);
}

std::size_t Storage::extract_directory(const Resource& r, const std::filesystem::path& dest,
                                       ExtractLimits limits) {
    if (!r.is_directory()) {
        throw ResourceError("resource " + r.uid + " (" + r.name +
                            ") is not a directory resource (no \"Directory\" flag)");
    }
    // Download to a temp file first so a big archive is not held twice in memory.
    util::TempDir tmp("karton-dir");
    const auto zip_path = tmp.path() / "archive.zip";
    download_to_file(r, zip_path);
    return extract_zip(util::read_file(zip_path), dest, limits);
}

}  // namespace karton
