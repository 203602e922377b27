// Tests of drak-web's pure request validation (web/request.hpp), the error table
// (web/errors.hpp) and the streaming ZIP writer (web/zip_stream.hpp, checked with libzip).
#include <zip.h>

#include <gtest/gtest.h>

#include "web/errors.hpp"
#include "web/request.hpp"
#include "web/settings.hpp"
#include "web/zip_stream.hpp"

namespace {

using drak_web::parse_range;
using Kind = drak_web::RangeRequest::Kind;

TEST(Range, AbsentOrForeignUnitIsWhole) {
    EXPECT_EQ(parse_range("", 100).kind, Kind::Whole);
    EXPECT_EQ(parse_range("items=0-5", 100).kind, Kind::Whole);
}

TEST(Range, ForwardSuffixAndOpenRanges) {
    auto r = parse_range("bytes=10-19", 100);
    ASSERT_EQ(r.kind, Kind::Partial);
    EXPECT_EQ(r.range.first, 10u);
    EXPECT_EQ(r.range.last, 19u);
    EXPECT_EQ(r.range.length(), 10u);
    r = parse_range("bytes=90-", 100);
    EXPECT_EQ(r.range.first, 90u);
    EXPECT_EQ(r.range.last, 99u);
    r = parse_range("bytes=-5", 100);
    EXPECT_EQ(r.range.first, 95u);
    EXPECT_EQ(r.range.last, 99u);
    r = parse_range("bytes=-500", 100);
    EXPECT_EQ(r.range.first, 0u);
    r = parse_range("bytes=50-5000", 100);  // clipped to the object
    EXPECT_EQ(r.range.last, 99u);
    r = parse_range("Bytes= 1-2 ", 100);
    EXPECT_EQ(r.kind, Kind::Partial);
}

TEST(Range, UnsatisfiableAndMalformed) {
    for (const char* h : {"bytes=100-", "bytes=100-200", "bytes=5-1", "bytes=abc", "bytes=1-x",
                          "bytes=-0", "bytes=0-1,3-4", "bytes=", "bytes=99999999999999999999-"})
        EXPECT_EQ(parse_range(h, 100).kind, Kind::Unsatisfiable) << h;
    EXPECT_EQ(parse_range("bytes=0-", 0).kind, Kind::Unsatisfiable);
}

TEST(Names, ArtifactNamesPidsAndUploadNames) {
    EXPECT_TRUE(drak_web::is_safe_artifact_name("process_tree"));
    EXPECT_TRUE(drak_web::is_safe_artifact_name("parse_errors"));
    for (const char* bad : {"", "..", "a/b", "a.b", "a b", "%2e"})
        EXPECT_FALSE(drak_web::is_safe_artifact_name(bad)) << bad;
    EXPECT_FALSE(drak_web::is_safe_artifact_name(std::string(65, 'a')));
    EXPECT_TRUE(drak_web::is_pid_text("4852"));
    EXPECT_FALSE(drak_web::is_pid_text("-1"));
    EXPECT_FALSE(drak_web::is_pid_text("12345678901"));

    auto n = drak_web::validate_upload_name("Invoice.EXE");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->base, "Invoice");
    EXPECT_EQ(n->extension, "EXE");
    n = drak_web::validate_upload_name("elf_behaviour");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->extension, "");
    for (const char* bad : {"../x.exe", "a/b.exe", "x.exe ", ".hidden", "-x.exe", "a;b.exe",
                            "x.ex$", "x.", "CON.exe", "x.verylongextension"})
        EXPECT_FALSE(drak_web::validate_upload_name(bad)) << bad;
}

TEST(FormFields, TimeoutPluginsStartCommand) {
    EXPECT_EQ(drak_web::parse_timeout("600"), 600);
    EXPECT_FALSE(drak_web::parse_timeout("0"));
    EXPECT_FALSE(drak_web::parse_timeout("1e3"));
    EXPECT_FALSE(drak_web::parse_timeout("-5"));
    EXPECT_FALSE(drak_web::parse_timeout("99999999999999999999"));
    auto p = drak_web::parse_plugins(R"(["procmon", "apimon"])");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->size(), 2u);
    EXPECT_TRUE(drak_web::parse_plugins("[]"));
    for (const char* bad : {"procmon", "{}", "[1]", R"(["Proc"])", R"(["a b"])", "[", R"("x")"})
        EXPECT_FALSE(drak_web::parse_plugins(bad)) << bad;
    EXPECT_TRUE(drak_web::is_valid_start_command("cmd /c start %f"));
    EXPECT_FALSE(drak_web::is_valid_start_command("a\nb"));
    EXPECT_FALSE(drak_web::is_valid_start_command(std::string(4097, 'a')));
}

TEST(TaskUid, RootOfKarton5Uids) {
    EXPECT_EQ(drak_web::root_of_task_uid("{abc}:def"), "abc");
    EXPECT_FALSE(drak_web::root_of_task_uid("abc"));
    EXPECT_FALSE(drak_web::root_of_task_uid("{}:x"));
    EXPECT_FALSE(drak_web::root_of_task_uid("{abc}:"));
}

TEST(Errors, OneTableMapsKindsToStatuses) {
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::BadRequest), 400);
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::InvalidUid), 400);
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::Unauthorized), 401);
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::NotFound), 404);
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::PayloadTooLarge), 413);
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::RangeNotSatisfiable), 416);
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::StorageUnavailable), 502);
    EXPECT_EQ(drak_web::http_status(drak_web::ErrorKind::Internal), 500);
    EXPECT_EQ(drak_web::error_body(drak_web::ErrorKind::NotFound, "Object not found"),
              R"({"error":"Object not found","kind":"not_found"})");
}

TEST(Settings, ListenParsing) {
    std::string host;
    int port = 0;
    drak_web::parse_listen("127.0.0.1:6300", host, port);
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, 6300);
    drak_web::parse_listen("[::1]:8080", host, port);
    EXPECT_EQ(host, "::1");
    drak_web::parse_listen("9000", host, port);
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, 9000);
    for (const char* bad : {"host:", "host:99999", "[::1]8080", ":80"})
        EXPECT_THROW(drak_web::parse_listen(bad, host, port), util::InputError) << bad;
}

TEST(Settings, ConfigIniWebSection) {
    auto cfg = karton::Config::parse_ini(
        "[redis]\nhost = 10.0.0.2\nport = 6380\n[s3]\naddress = http://s3:9000\naccess_key = a\n"
        "secret_key = b\n[web]\nlisten = 0.0.0.0:7000\napi_token = tok\nupload_max_size = 1024\n"
        "cors_origin = https://x.example\n");
    auto c = drak_web::web_config_from(cfg, {});
    EXPECT_EQ(c.web.host, "0.0.0.0");
    EXPECT_EQ(c.web.port, 7000);
    EXPECT_EQ(c.web.api_token, "tok");
    EXPECT_EQ(c.web.upload_max_size, 1024u);
    EXPECT_EQ(c.web.cors_origin, "https://x.example");
    EXPECT_EQ(c.service.redis.host, "10.0.0.2");
    EXPECT_EQ(c.service.redis.port, 6380);
    EXPECT_EQ(c.service.s3.endpoint, "http://s3:9000");
    auto d = drak_web::web_config_from(
        karton::Config::parse_ini("[redis]\nhost=h\n[s3]\naddress=http://s\n"), {});
    EXPECT_EQ(d.web.host, "127.0.0.1");  // loopback by default
    EXPECT_EQ(d.web.upload_max_size, 100u * 1024 * 1024);
    EXPECT_TRUE(d.web.cors_origin.empty());
    EXPECT_THROW(drak_web::web_config_from(
                     karton::Config::parse_ini("[redis]\nhost=h\n[s3]\naddress=http://s\n[web]\n"
                                               "upload_max_size = 0\n"),
                     {}),
                 util::InputError);
}

TEST(ZipStream, ArchiveOpensWithLibzipAndSizesMatch) {
    std::vector<drak_web::ZipEntryPlan> plan = {
        {"dump.pcap", 3000}, {"dump.keys", 0}, {"c.txt", 5}};
    std::string contents[] = {std::string(3000, 'x'), "", "hello"};
    std::string out;
    bool ok = drak_web::write_zip(
        plan,
        [&](std::string_view b) {
            out.append(b);
            return true;
        },
        [&](std::size_t i, const std::function<bool(std::string_view)>& emit) {
            const auto& s = contents[i];
            for (std::size_t at = 0; at < s.size(); at += 1000)
                if (!emit(std::string_view(s).substr(at, 1000))) return false;
            return true;
        });
    ASSERT_TRUE(ok);
    EXPECT_EQ(out.size(), drak_web::zip_size(plan));
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(out.data(), out.size(), 0, &err);
    zip_t* z = zip_open_from_source(src, ZIP_CHECKCONS, &err);
    ASSERT_NE(z, nullptr) << zip_error_strerror(&err);
    ASSERT_EQ(zip_get_num_entries(z, 0), 3);
    for (int i = 0; i < 3; ++i) {
        zip_file_t* f = zip_fopen_index(z, i, 0);
        ASSERT_NE(f, nullptr);
        std::string got(contents[i].size() + 1, '\0');
        auto n = zip_fread(f, got.data(), got.size());  // CRC is verified at EOF
        EXPECT_EQ(n, static_cast<zip_int64_t>(contents[i].size()));
        got.resize(static_cast<std::size_t>(std::max<zip_int64_t>(n, 0)));
        EXPECT_EQ(got, contents[i]);
        zip_fclose(f);
    }
    zip_close(z);
    zip_error_fini(&err);
    EXPECT_EQ(drak_web::crc32_update(0, "123456789"), 0xCBF43926u);
}

TEST(ZipStream, ShortMemberFails) {
    std::vector<drak_web::ZipEntryPlan> plan = {{"a", 10}};
    bool ok = drak_web::write_zip(
        plan, [](std::string_view) { return true; },
        [](std::size_t, const std::function<bool(std::string_view)>& emit) { return emit("abc"); });
    EXPECT_FALSE(ok);
}

}  // namespace
