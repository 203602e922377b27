// Tests for postprocess/dumps.hpp (spec §6.2 with the issue-4 "drop largest first" rule):
// names, cap, symlinks, non-regular files, zip-slip, empty archive, metadata.
#include "postprocess/dumps.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>

#include <map>

#include "postprocess/py_json.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;

namespace {

// Entry name → uncompressed content, read back with libzip.
std::map<std::string, std::string> read_zip(const fs::path& path) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
    EXPECT_NE(z, nullptr);
    std::map<std::string, std::string> out;
    if (z == nullptr) {
        return out;
    }
    const zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st);
        std::string data(st.size, '\0');
        if (st.size > 0) {
            zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
            EXPECT_EQ(zip_fread(f, data.data(), st.size), static_cast<zip_int64_t>(st.size));
            zip_fclose(f);
        }
        EXPECT_EQ(st.comp_method, st.size > 0 ? ZIP_CM_DEFLATE : st.comp_method);
        out[st.name] = data;
    }
    zip_discard(z);
    return out;
}

void put(const fs::path& p, size_t size, char fill = 'x') {
    util::write_file_atomic(p, std::string(size, fill));
}

}  // namespace

TEST(Dumps, NameConventionAndBaseAddress) {
    using postprocess::is_memdump_data_name;
    EXPECT_TRUE(is_memdump_data_name("405000_0123456789abcdef"));
    EXPECT_TRUE(is_memdump_data_name("7ff6a1230000_0123456789abcdef"));
    EXPECT_FALSE(is_memdump_data_name("123_0123456789abcdef"));                // base < 4 digits
    EXPECT_FALSE(is_memdump_data_name("12345678901234567_0123456789abcdef"));  // > 16
    EXPECT_FALSE(is_memdump_data_name("405000_0123456789ABCDEF"));
    EXPECT_FALSE(is_memdump_data_name("../405000_0123456789abcdef"));
    EXPECT_TRUE(postprocess::is_memdump_sidecar_name("memdump.000001.metadata"));
    EXPECT_FALSE(postprocess::is_memdump_sidecar_name("memdump.00001.metadata"));
    EXPECT_FALSE(postprocess::is_memdump_sidecar_name("memdump.000001.metadata/../x"));
    EXPECT_EQ(postprocess::memdump_base_address("00405000_0123456789abcdef").value(), "0x405000");
    EXPECT_EQ(postprocess::memdump_base_address("0000_0123456789abcdef").value(), "0x0");
}

TEST(Dumps, PacksConventionNamesAndListsDataFiles) {
    util::TempDir tmp("post-dumps");
    const fs::path d = tmp.path() / "dumps";
    fs::create_directory(d);
    put(d / "405000_0123456789abcdef", 5000, 'a');
    put(d / "7ff6a1230000_fedcba9876543210", 3000, 'b');
    put(d / "memdump.000001.metadata", 100, 'c');
    put(d / "dump.tmp", 10);
    put(d / "..%2f..%2fevil", 10);
    put(d / "a\\..\\..\\evil", 10);
    auto r = postprocess::crop_dumps(d, tmp.path() / "dumps.zip", 1 << 20, true);
    EXPECT_EQ(r.packed_files, 3u);
    EXPECT_EQ(r.ignored_files, 3u);
    EXPECT_EQ(postprocess::py_dumps(r.metadata),
              R"([{"filename": "dumps/405000_0123456789abcdef", "base_address": "0x405000"}, )"
              R"({"filename": "dumps/7ff6a1230000_fedcba9876543210", "base_address": )"
              R"("0x7ff6a1230000"}])");
    const auto zip = read_zip(tmp.path() / "dumps.zip");
    ASSERT_EQ(zip.size(), 3u);
    EXPECT_EQ(zip.at("dumps/405000_0123456789abcdef"), std::string(5000, 'a'));
    EXPECT_EQ(zip.at("dumps/memdump.000001.metadata"), std::string(100, 'c'));
    for (const auto& [name, data] : zip) {
        EXPECT_EQ(name.find(".."), std::string::npos) << name;
        EXPECT_EQ(name.rfind("dumps/", 0), 0u) << name;
    }
    // Inputs deleted, directory kept.
    EXPECT_TRUE(fs::is_directory(d));
    EXPECT_TRUE(fs::is_empty(d));
}

TEST(Dumps, OverTheCapDropsTheLargestFirst) {
    util::TempDir tmp("post-dumps");
    const fs::path d = tmp.path() / "dumps";
    fs::create_directory(d);
    put(d / "1000_0000000000000001", 600);
    put(d / "2000_0000000000000002", 500);
    put(d / "3000_0000000000000003", 100);
    put(d / "4000_0000000000000004", 50);
    auto r = postprocess::crop_dumps(d, tmp.path() / "dumps.zip", 700, false);
    // 1250 total: drop 600 → 650 ≤ 700.
    EXPECT_EQ(r.dropped_files, 1u);
    EXPECT_EQ(r.packed_bytes, 650u);
    const auto zip = read_zip(tmp.path() / "dumps.zip");
    EXPECT_EQ(zip.size(), 3u);
    EXPECT_EQ(zip.count("dumps/1000_0000000000000001"), 0u);
    EXPECT_EQ(r.metadata.size(), 3u);
    EXPECT_TRUE(fs::exists(d / "1000_0000000000000001"));  // delete_inputs = false
}

TEST(Dumps, SymlinksAndSpecialFilesAreNeverFollowed) {
    util::TempDir tmp("post-dumps");
    const fs::path d = tmp.path() / "dumps";
    fs::create_directory(d);
    util::write_file_atomic(tmp.path() / "secret", "secret");
    fs::create_symlink(tmp.path() / "secret", d / "5000_0000000000000005");
    fs::create_directory(d / "6000_0000000000000006");
    ASSERT_EQ(::mkfifo((d / "7000_0000000000000007").c_str(), 0600), 0);
    auto r = postprocess::crop_dumps(d, tmp.path() / "dumps.zip", 1 << 20, true);
    EXPECT_EQ(r.packed_files, 0u);
    EXPECT_EQ(r.ignored_files, 3u);
    const auto zip = read_zip(tmp.path() / "dumps.zip");
    ASSERT_EQ(zip.size(), 1u);
    EXPECT_EQ(zip.begin()->first, "dumps/");
    EXPECT_EQ(util::read_file(tmp.path() / "secret"), "secret");
    EXPECT_TRUE(fs::is_symlink(d / "5000_0000000000000005"));
}

TEST(Dumps, EmptyDirectoryGivesADirEntryAndSymlinkedDirIsRefused) {
    util::TempDir tmp("post-dumps");
    fs::create_directory(tmp.path() / "dumps");
    auto r = postprocess::crop_dumps(tmp.path() / "dumps", tmp.path() / "dumps.zip", 10, true);
    EXPECT_TRUE(r.metadata.empty());
    EXPECT_EQ(read_zip(tmp.path() / "dumps.zip").count("dumps/"), 1u);
    fs::create_directory_symlink(tmp.path() / "dumps", tmp.path() / "linked");
    EXPECT_THROW(postprocess::crop_dumps(tmp.path() / "linked", tmp.path() / "x.zip", 10, true),
                 util::InputError);
}

TEST(Dumps, ManyFilesAcrossBatches) {
    util::TempDir tmp("post-dumps");
    const fs::path d = tmp.path() / "dumps";
    fs::create_directory(d);
    for (int i = 0; i < 300; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "%08x_%016x", 0x10000 + i * 0x1000, i);
        put(d / name, 10 + i);
    }
    auto r = postprocess::crop_dumps(d, tmp.path() / "dumps.zip", 1 << 20, true);
    EXPECT_EQ(r.packed_files, 300u);
    EXPECT_EQ(read_zip(tmp.path() / "dumps.zip").size(), 300u);
    EXPECT_EQ(r.metadata[0]["base_address"], "0x10000");
}
