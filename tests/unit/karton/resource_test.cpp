// Tests for karton/resource.hpp (spec §4.3): markers, local sources, directory archives and
// safe extraction of hostile archives.
#include "karton/resource.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>

#include <filesystem>
#include <string>

#include "util/crypto.hpp"
#include "util/fs.hpp"

namespace json = karton::json;
namespace fs = std::filesystem;

namespace {

// Builds a ZIP in memory with the given (name, content, unix mode) entries, using libzip
// directly so hostile names and symlink entries can be produced.
std::string make_zip(const std::vector<std::tuple<std::string, std::string, unsigned>>& entries) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
    EXPECT_NE(src, nullptr);
    zip_t* za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
    EXPECT_NE(za, nullptr);
    zip_source_keep(src);
    for (const auto& [name, content, mode] : entries) {
        zip_source_t* s = zip_source_buffer(za, content.data(), content.size(), 0);
        const zip_int64_t idx = zip_file_add(za, name.c_str(), s, ZIP_FL_ENC_RAW);
        EXPECT_GE(idx, 0) << name;
        if (mode != 0) {
            zip_file_set_external_attributes(za, static_cast<zip_uint64_t>(idx), 0, ZIP_OPSYS_UNIX,
                                             static_cast<zip_uint32_t>(mode) << 16);
        }
    }
    EXPECT_EQ(zip_close(za), 0);
    EXPECT_EQ(zip_source_open(src), 0);
    std::string out;
    char buf[4096];
    zip_int64_t n = 0;
    while ((n = zip_source_read(src, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    zip_source_close(src);
    zip_source_free(src);
    return out;
}

}  // namespace

TEST(Resource, MarkerDefaultsAndOverrides) {
    json::Value m = json::parse(
        R"({"__karton_resource__": {"uid": "r1", "name": "f", "bucket": "karton", "sha256": "abc", "metadata": {"sha256": "old", "k": 1}}, "sibling": 1})");
    karton::Resource r = karton::resource_from_marker(m);
    EXPECT_EQ(r.sha256, "abc");
    EXPECT_FALSE(r.size);
    EXPECT_TRUE(r.flags.empty());
    EXPECT_FALSE(r.is_local());
    EXPECT_EQ(
        json::dump(r.to_marker()),
        R"({"__karton_resource__": {"bucket": "karton", "flags": [], "metadata": {"k": 1, "sha256": "abc"}, "name": "f", "sha256": "abc", "size": null, "uid": "r1"}})");
    json::Value doc = json::parse(R"({"a": [1, {"x": )" + json::dump(m) + "}]}");
    karton::normalize_resources(doc);
    EXPECT_EQ(json::dump(doc.as_object().at("a").as_array()[1].as_object().at("x")),
              json::dump(r.to_marker()));
    int seen = 0;
    karton::for_each_resource(doc, [&](json::Object& inner) {
        ++seen;
        inner.set("bucket", "changed");
    });
    EXPECT_EQ(seen, 1);
    EXPECT_EQ(karton::find_resources(doc).at(0).bucket, "changed");
    EXPECT_THROW(karton::resource_from_marker(json::Value(1)), karton::ResourceError);
}

TEST(Resource, LocalSources) {
    util::SequentialIdSource ids;
    EXPECT_THROW(karton::resource_from_bytes("e", "", ids), karton::ResourceError);
    util::TempDir dir("model-res");
    const fs::path p = dir.path() / "f.bin";
    util::write_file_atomic(p, "content!");
    karton::Resource r = karton::resource_from_file("f.bin", p, ids);
    EXPECT_EQ(r.size, 8);
    EXPECT_EQ(r.sha256, util::sha256_hex("content!"));
    ASSERT_TRUE(std::holds_alternative<karton::LocalPath>(r.local));
    EXPECT_EQ(std::get<karton::LocalPath>(r.local).path, p);
    EXPECT_EQ(r.uid, "00000000-0000-4000-8000-000000000001");
    EXPECT_THROW(karton::resource_from_file("x", dir.path() / "missing", ids),
                 karton::ResourceError);
    util::write_file_atomic(dir.path() / "empty", "");
    EXPECT_THROW(karton::resource_from_file("x", dir.path() / "empty", ids), karton::ResourceError);
    // metadata.sha256 is used when no explicit sha256 is given.
    karton::Resource m = karton::resource_from_bytes(
        "m", "abc", ids, {.metadata = json::parse(R"({"sha256": "given"})").as_object()});
    EXPECT_EQ(m.sha256, "given");
}

TEST(Resource, DirectoryZipRoundTrip) {
    util::TempDir src("model-zsrc");
    fs::create_directories(src.path() / "sub" / "deeper");
    util::write_file_atomic(src.path() / "a.txt", "alpha");
    util::write_file_atomic(src.path() / "sub" / "b.bin", std::string(100000, 'b'));
    util::write_file_atomic(src.path() / "sub" / "deeper" / "c", "c");
    fs::create_symlink("/etc/passwd", src.path() / "link");
    util::SequentialIdSource ids;
    karton::Resource r = karton::resource_from_directory("dumps", src.path(), ids);
    ASSERT_TRUE(std::holds_alternative<karton::LocalBytes>(r.local));
    const std::string& zip = std::get<karton::LocalBytes>(r.local).bytes;
    EXPECT_EQ(zip.substr(0, 2), "PK");
    EXPECT_LT(zip.size(), 10000u);  // deflated
    EXPECT_EQ(r.sha256, util::sha256_hex(zip));
    EXPECT_EQ(r.size, static_cast<std::int64_t>(zip.size()));
    EXPECT_TRUE(r.is_directory());

    util::TempDir out("model-zout");
    EXPECT_EQ(karton::extract_zip(zip, out.path()), 3u);
    EXPECT_EQ(util::read_file(out.path() / "a.txt"), "alpha");
    EXPECT_EQ(util::read_file(out.path() / "sub" / "b.bin"), std::string(100000, 'b'));
    EXPECT_EQ(util::read_file(out.path() / "sub" / "deeper" / "c"), "c");
    EXPECT_FALSE(fs::exists(out.path() / "link"));
    EXPECT_THROW(karton::zip_directory(src.path() / "a.txt"), karton::ResourceError);
}

TEST(Resource, ExtractRejectsHostileArchives) {
    const std::pair<std::vector<std::tuple<std::string, std::string, unsigned>>, std::string>
        cases[] = {
            {{{"../evil", "x", 0}}, "\"..\""},
            {{{"a/../../evil", "x", 0}}, "\"..\""},
            {{{"/abs/evil", "x", 0}}, "absolute"},
            {{{"c:\\evil", "x", 0}}, "absolute"},
            {{{"link", "/etc/passwd", S_IFLNK | 0777}}, "symbolic link"},
        };
    for (const auto& [entries, needle] : cases) {
        util::TempDir out("model-zbad");
        const std::string zip = make_zip(entries);
        try {
            karton::extract_zip(zip, out.path());
            ADD_FAILURE() << "accepted " << std::get<0>(entries[0]);
        } catch (const karton::ResourceError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
        EXPECT_FALSE(fs::exists(out.path().parent_path() / "evil"));
    }
    // Size bound: a highly compressible entry beyond the limit.
    util::TempDir out("model-zbomb");
    const std::string bomb = make_zip({{"big", std::string(1 << 20, 'z'), 0}});
    EXPECT_THROW(karton::extract_zip(bomb, out.path(), {.max_total_bytes = 1000}),
                 karton::ResourceError);
    EXPECT_THROW(karton::extract_zip("not a zip at all", out.path()), karton::ResourceError);
    EXPECT_THROW(karton::extract_zip(make_zip({{"a", "1", 0}, {"b", "2", 0}}), out.path(),
                                     {.max_entries = 1}),
                 karton::ResourceError);
}
