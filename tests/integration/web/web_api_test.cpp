// Integration tests of drak-web's REST API (issue 7) against a real redis-server and s3rver,
// with a finished analysis seeded from real DRAKVUF output (seed_analysis.hpp) and real uploads
// that go through Karton.
#include <httplib.h>
#include <zip.h>

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "drakrun/status.hpp"
#include "karton/redis.hpp"
#include "karton/task.hpp"
#include "support/paths.hpp"
#include "support/redis_server.hpp"
#include "support/s3_server.hpp"
#include "seed_analysis.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "web/server.hpp"

namespace {

using nlohmann::json;

const std::string kUid =
    "{5b4a3d1e-0000-4000-8000-00000000abcd}:5b4a3d1e-0000-4000-8000-00000000abcd";
const std::string kUidPath =
    "%7B5b4a3d1e-0000-4000-8000-00000000abcd%7D:5b4a3d1e-0000-4000-8000-00000000abcd";

class Env {
  public:
    test_support::RedisServer redis;
    test_support::S3Server s3;
    util::TempDir work{"web-test"};
    std::unique_ptr<s3::S3Client> s3c;

    Env() {
        s3c = std::make_unique<s3::S3Client>(s3_options());
        s3c->create_bucket("drakrun");
        s3c->create_bucket("karton");
        web_test::build_analysis_dir(test_support::shared_dir(), analysis_dir(), kUid);
        web_test::upload_analysis(*s3c, "drakrun", kUid, analysis_dir());
        karton::Connection conn(redis_options());
        web_test::mark_finished(conn, kUid, analysis_dir());
        std::filesystem::create_directories(work.path() / "dist");
        util::write_file_atomic(work.path() / "dist/index.html",
                                "<!doctype html><title>ui</title>");
    }
    std::filesystem::path analysis_dir() const { return work.path() / "analysis"; }
    s3::Options s3_options() const {
        s3::Options o;
        o.endpoint = s3.endpoint();
        o.access_key = s3.access_key();
        o.secret_key = s3.secret_key();
        return o;
    }
    karton::RedisOptions redis_options() const {
        karton::RedisOptions r;
        r.host = redis.host();
        r.port = redis.port();
        return r;
    }
    drak_web::WebConfig config() const {
        drak_web::WebConfig c;
        c.web.port = 0;
        c.web.static_dir = work.path() / "dist";
        c.web.threads = 4;
        c.service.redis = redis_options();
        c.service.s3 = s3_options();
        c.service.bucket = "karton";
        return c;
    }
};

Env* g_env = nullptr;

class WebApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { g_env = new Env(); }
    static void TearDownTestSuite() {
        delete g_env;
        g_env = nullptr;
    }
    void SetUp() override { start(g_env->config()); }
    void start(drak_web::WebConfig c) {
        server_.reset();
        server_ = std::make_unique<drak_web::WebServer>(std::move(c));
        server_->start();
        client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
        client_->set_read_timeout(30, 0);
    }
    std::string file(const std::string& rel) {
        return util::read_file(g_env->analysis_dir() / rel);
    }
    static json body_json(const httplib::Result& r) { return json::parse(r->body); }

    std::unique_ptr<drak_web::WebServer> server_;
    std::unique_ptr<httplib::Client> client_;
};

void expect_error(const httplib::Result& r, int status, const std::string& kind) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_EQ(j.value("kind", ""), kind) << r->body;
    EXPECT_FALSE(j.value("error", "").empty());
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
}

TEST_F(WebApi, ListShowsTheSeededAnalysisWithItsMetadata) {
    auto r = client_->Get("/list");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    auto j = body_json(r);
    ASSERT_TRUE(j.is_array());
    bool found = false;
    for (const auto& e : j) {
        if (e["id"] != kUid) continue;
        found = true;
        EXPECT_EQ(e["status"], "finished");
        EXPECT_EQ(e["meta"]["time_finished"], 1716999250.5);
    }
    EXPECT_TRUE(found) << r->body;
}

TEST_F(WebApi, StatusComesFromTheRecordAndFallsBackToTheTasksOfTheRoot) {
    auto r = client_->Get("/status/" + kUidPath);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(body_json(r)["status"], "done");
    EXPECT_EQ(body_json(r)["state"], "finished");
    EXPECT_TRUE(body_json(r)["vm_id"].is_null());

    karton::Connection conn(g_env->redis_options());
    const std::string pending_uid = "{aaaa}:aaaa";
    drakrun::StatusStore(conn).create_pending(pending_uid);
    conn.command({"SET", "drakvnc:" + pending_uid, "3"});
    r = client_->Get("/status/%7Baaaa%7D:aaaa");
    ASSERT_TRUE(r);
    EXPECT_EQ(body_json(r)["status"], "pending");
    EXPECT_EQ(body_json(r)["vm_id"], "3");

    // No record: the Karton tasks under the root decide.
    conn.command(
        {"SET", "karton.task:{bbbb}:cccc", R"({"status": "Started", "uid": "{bbbb}:cccc"})"});
    r = client_->Get("/status/%7Bbbbb%7D:bbbb");
    EXPECT_EQ(body_json(r)["status"], "pending");
    conn.command({"SET", "karton.task:{bbbb}:cccc", R"({"status": "Finished"})"});
    r = client_->Get("/status/%7Bbbbb%7D:bbbb");
    EXPECT_EQ(body_json(r)["status"], "done");
    r = client_->Get("/status/nothing-known");
    EXPECT_EQ(body_json(r)["status"], "done");
}

TEST_F(WebApi, InvalidUidsAndNamesAreRejectedWithJsonErrors) {
    expect_error(client_->Get("/status/..%2Fetc"), 404, "not_found");  // decoded: 2 segments
    expect_error(client_->Get("/metadata/a%20b"), 400, "invalid_uid");
    expect_error(client_->Get("/metadata/..secret"), 400, "invalid_uid");
    expect_error(client_->Get("/logs/" + kUidPath + "/..%2Fmetadata"), 404, "not_found");
    expect_error(client_->Get("/logs/" + kUidPath + "/..metadata"), 400, "bad_request");
    expect_error(client_->Get("/logs/" + kUidPath + "/proc.mon"), 400, "bad_request");
    expect_error(client_->Get("/processed/" + kUidPath + "/apicall/12a"), 400, "bad_request");
    expect_error(client_->Get("/processed/" + kUidPath + "/x.y"), 400, "bad_request");
    expect_error(client_->Get("/logs/" + kUidPath + "/nosuchplugin"), 404, "not_found");
    expect_error(client_->Get("/metadata/unknown-analysis"), 404, "not_found");
    expect_error(client_->Get("/logs/a/b/c"), 404, "not_found");
}

TEST_F(WebApi, ArtifactsAreServedByteForByte) {
    auto r = client_->Get("/metadata/" + kUidPath);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, file("metadata.json"));
    r = client_->Get("/report/" + kUidPath);
    EXPECT_EQ(r->body, file("report.json"));
    EXPECT_EQ(json::parse(r->body)["version"], 1);
    r = client_->Get("/processed/" + kUidPath + "/process_tree");
    EXPECT_EQ(r->body, file("process_tree.json"));
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    r = client_->Get("/processed/" + kUidPath + "/apicall/4852");
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, file("apicall/4852.json"));
    r = client_->Get("/logindex/" + kUidPath + "/procmon");
    EXPECT_EQ(r->body, file("index/procmon.log.json"));
    EXPECT_GT(json::parse(r->body)["markers"].size(), 1u);  // 64 KiB chunks: several pages
}

TEST_F(WebApi, LogListHoldsOnlyTopLevelLogObjects) {
    auto r = client_->Get("/logs/" + kUidPath);
    ASSERT_TRUE(r);
    auto j = body_json(r);
    std::set<std::string> names(j.begin(), j.end());
    EXPECT_TRUE(names.count(kUid + "/procmon.log"));
    EXPECT_TRUE(names.count(kUid + "/apimon.log"));
    EXPECT_TRUE(names.count(kUid + "/drakrun.log"));
    for (const auto& n : names) {
        EXPECT_EQ(n.substr(n.size() - 4), ".log");
        EXPECT_EQ(n.find('/', kUid.size() + 1), std::string::npos) << n;
    }
}

TEST_F(WebApi, RangeRequestsGetOneProper206) {
    const std::string log = file("procmon.log");
    ASSERT_GT(log.size(), 200000u);
    auto r = client_->Get("/logs/" + kUidPath + "/procmon");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, log);
    EXPECT_EQ(r->get_header_value("Accept-Ranges"), "bytes");

    r = client_->Get("/logs/" + kUidPath + "/procmon", {{"Range", "bytes=1000-1999"}});
    EXPECT_EQ(r->status, 206);
    EXPECT_EQ(r->body, log.substr(1000, 1000));
    EXPECT_EQ(r->get_header_value("Content-Range"),
              "bytes 1000-1999/" + std::to_string(log.size()));

    r = client_->Get("/logs/" + kUidPath + "/procmon", {{"Range", "bytes=-10"}});
    EXPECT_EQ(r->status, 206);
    EXPECT_EQ(r->body, log.substr(log.size() - 10));

    // Across the 1 MiB streaming chunks is irrelevant here; a middle open-ended range:
    r = client_->Get("/logs/" + kUidPath + "/procmon", {{"Range", "bytes=150000-"}});
    EXPECT_EQ(r->status, 206);
    EXPECT_EQ(r->body, log.substr(150000));

    r = client_->Get("/logs/" + kUidPath + "/procmon",
                     {{"Range", "bytes=" + std::to_string(log.size()) + "-"}});
    expect_error(r, 416, "range_not_satisfiable");
    EXPECT_EQ(r->get_header_value("Content-Range"), "bytes */" + std::to_string(log.size()));
    expect_error(client_->Get("/logs/" + kUidPath + "/procmon", {{"Range", "bytes=0-1,5-9"}}), 416,
                 "range_not_satisfiable");
}

TEST_F(WebApi, PagingByTheIndexReassemblesTheLogExactly) {
    const std::string log = file("apimon.log");
    auto index = json::parse(client_->Get("/logindex/" + kUidPath + "/apimon")->body);
    auto markers = index["markers"];
    ASSERT_GT(markers.size(), 2u);
    std::string joined;
    for (std::size_t i = 0; i < markers.size(); ++i) {
        std::string range =
            "bytes=" + std::to_string(markers[i]["offset"].get<std::uint64_t>()) + "-";
        if (i + 1 < markers.size())
            range += std::to_string(markers[i + 1]["offset"].get<std::uint64_t>() - 1);
        auto r = client_->Get("/logs/" + kUidPath + "/apimon", {{"Range", range}});
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 206) << range;
        joined += r->body;
    }
    EXPECT_EQ(joined, log);
}

TEST_F(WebApi, PcapDumpIsAZipWithPcapAndKeys) {
    auto r = client_->Get("/pcap_dump/" + kUidPath);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/zip");
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(r->body.data(), r->body.size(), 0, &err);
    ASSERT_NE(src, nullptr);
    zip_t* z = zip_open_from_source(src, ZIP_CHECKCONS, &err);
    ASSERT_NE(z, nullptr) << zip_error_strerror(&err);
    auto read = [&](const char* name) {
        zip_stat_t st;
        if (zip_stat(z, name, 0, &st) != 0) return std::string("<missing>");
        zip_file_t* f = zip_fopen(z, name, 0);
        std::string out(st.size, '\0');
        zip_fread(f, out.data(), st.size);
        zip_fclose(f);
        return out;
    };
    EXPECT_EQ(zip_get_num_entries(z, 0), 2);
    EXPECT_EQ(read("dump.pcap"), file("dump.pcap"));
    EXPECT_EQ(read("dump.keys"), file("wireshark_key_file.txt"));
    zip_close(z);
    zip_error_fini(&err);
    expect_error(client_->Get("/pcap_dump/no-such-analysis"), 404, "not_found");
}

// upload posts a multipart form and returns the response.
httplib::Result post_upload(httplib::Client& c, const std::string& content, const std::string& name,
                            httplib::MultipartFormDataItems extra = {}) {
    httplib::MultipartFormDataItems items = {{"file", content, name, "application/octet-stream"}};
    for (auto& e : extra) items.push_back(e);
    return c.Post("/upload", items);
}

TEST_F(WebApi, UploadSendsTheKartonTaskAndRecordsPending) {
    const std::string elf = util::read_file("/bin/true");
    auto r = post_upload(*client_, elf, "tool.elf",
                         {{"timeout", "120", "", ""},
                          {"plugins", R"(["procmon", "filetracer"])", "", ""},
                          {"start_command", "./tool.elf --run", "", ""}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    std::string uid = body_json(r)["task_uid"];
    ASSERT_FALSE(uid.empty());

    karton::Connection conn(g_env->redis_options());
    auto queued = conn.command({"LRANGE", "karton.tasks", "0", "-1"});
    bool in_queue = false;
    for (const auto& e : queued.as_array()) in_queue |= e.str == uid;
    EXPECT_TRUE(in_queue);
    auto text = conn.command({"GET", "karton.task:" + uid}).as_optional_string();
    ASSERT_TRUE(text);
    util::FixedStepClock clock(1.0, 1.0);
    auto task = karton::parse_task(*text, clock);
    EXPECT_EQ(task.headers.find("type")->as_string(), "sample");
    EXPECT_EQ(task.headers.find("stage")->as_string(), "recognized");
    EXPECT_EQ(task.headers.find("platform")->as_string(), "linux");  // ELF
    EXPECT_EQ(task.headers.find("extension")->as_string(), "elf");
    EXPECT_EQ(task.headers.find("origin")->as_string(), "drak-web");
    EXPECT_EQ(task.payload.find("override_uid")->as_string(), uid);
    EXPECT_EQ(task.payload.find("file_name")->as_string(), "tool");
    EXPECT_EQ(task.payload.find("timeout")->as_int(), 120);
    EXPECT_EQ(task.payload.find("start_command")->as_string(), "./tool.elf --run");
    EXPECT_EQ(task.payload.find("plugins")->as_array().size(), 2u);
    auto res = karton::find_resources(*task.payload.find("sample"));
    ASSERT_EQ(res.size(), 1u);
    EXPECT_EQ(res[0].name, "tool.elf");
    EXPECT_EQ(g_env->s3c->get_object(*res[0].bucket, res[0].uid), elf);

    auto st = drakrun::StatusStore(conn).get(uid);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, drakrun::AnalysisState::Pending);
    EXPECT_EQ(
        body_json(client_->Get("/status/" + httplib::detail::encode_query_param(uid)))["status"],
        "pending");
}

TEST_F(WebApi, UploadWithoutRecognisableFormatDefaultsToWin32WithoutExtension) {
    auto r = post_upload(*client_, "just some text\n", "notes");
    ASSERT_EQ(r->status, 200) << r->body;
    karton::Connection conn(g_env->redis_options());
    std::string uid = body_json(r)["task_uid"];
    util::FixedStepClock clock(1.0, 1.0);
    auto task = karton::parse_task(
        *conn.command({"GET", "karton.task:" + uid}).as_optional_string(), clock);
    EXPECT_EQ(task.headers.find("platform")->as_string(), "win32");
    EXPECT_EQ(task.headers.find("extension"), nullptr);
    EXPECT_EQ(task.payload.find("timeout"), nullptr);
}

TEST_F(WebApi, UploadValidationErrors) {
    expect_error(post_upload(*client_, "MZ", "../evil.exe"), 400, "bad_request");
    expect_error(post_upload(*client_, "MZ", "a;rm -rf.exe"), 400, "bad_request");
    expect_error(post_upload(*client_, "MZ", "ok.exe", {{"file_name", "x|y.exe", "", ""}}), 400,
                 "bad_request");
    expect_error(post_upload(*client_, "MZ", "ok.exe", {{"timeout", "ten", "", ""}}), 400,
                 "bad_request");
    expect_error(post_upload(*client_, "MZ", "ok.exe", {{"plugins", "procmon", "", ""}}), 400,
                 "bad_request");
    expect_error(post_upload(*client_, "MZ", "ok.exe", {{"plugins", R"(["../x"])", "", ""}}), 400,
                 "bad_request");
    expect_error(post_upload(*client_, "", "ok.exe"), 400, "bad_request");
    expect_error(
        client_->Post("/upload", httplib::MultipartFormDataItems{{"timeout", "5", "", ""}}), 400,
        "bad_request");
    expect_error(client_->Post("/upload", "{}", "application/json"), 400, "bad_request");
}

TEST_F(WebApi, UploadAboveTheCapIs413AndNothingIsQueued) {
    auto c = g_env->config();
    c.web.upload_max_size = 4096;
    start(std::move(c));
    karton::Connection conn(g_env->redis_options());
    auto before = conn.command({"LLEN", "karton.tasks"}).as_integer();
    expect_error(post_upload(*client_, std::string(5000, 'A'), "big.exe"), 413,
                 "payload_too_large");
    EXPECT_EQ(conn.command({"LLEN", "karton.tasks"}).as_integer(), before);
    auto ok = post_upload(*client_, std::string(4096, 'A'), "fits.exe");
    EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(WebApi, BearerTokenIsRequiredWhenConfigured) {
    auto c = g_env->config();
    c.web.api_token = "s3cret-token";
    start(std::move(c));
    expect_error(client_->Get("/list"), 401, "unauthorized");
    expect_error(client_->Get("/list", {{"Authorization", "Bearer wrong"}}), 401, "unauthorized");
    expect_error(post_upload(*client_, "MZ", "a.exe"), 401, "unauthorized");
    EXPECT_EQ(client_->Get("/list", {{"Authorization", "Bearer s3cret-token"}})->status, 200);
    EXPECT_EQ(client_->Get("/metadata/" + kUidPath + "?access_token=s3cret-token")->status, 200);
    // The UI shell itself is public (it asks for the token).
    EXPECT_EQ(client_->Get("/")->status, 200);
}

TEST_F(WebApi, CorsOnlyWhenConfigured) {
    auto r = client_->Get("/list");
    EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
    auto c = g_env->config();
    c.web.cors_origin = "https://ui.example";
    start(std::move(c));
    r = client_->Get("/list");
    EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://ui.example");
    EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("Range"), std::string::npos);
}

TEST_F(WebApi, UiRoutesServeTheSinglePageApp) {
    auto r = client_->Get("/analysis/" + kUidPath);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->body.find("<title>ui</title>"), std::string::npos);
    EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'self'"),
              std::string::npos);
    expect_error(client_->Get("/processed"), 404, "not_found");
}

TEST_F(WebApi, StorageOutageIs502NotACrash) {
    auto c = g_env->config();
    c.service.s3.endpoint =
        "http://127.0.0.1:" + std::to_string(test_support::free_loopback_port());
    c.service.s3.max_retries = 0;
    start(std::move(c));
    expect_error(client_->Get("/metadata/" + kUidPath), 502, "storage_unavailable");
}

}  // namespace
