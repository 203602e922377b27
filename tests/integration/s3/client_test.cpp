// S3Client against a real @20minutes/s3rver on loopback (SigV4 verified by the server).
// Spec karton-protocol.md §13, §9.2. Each test uses its own bucket.
#include "s3/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "support/s3_server.hpp"
#include "util/crypto.hpp"
#include "util/fs.hpp"

namespace {

// RecordingTransport forwards to the real CurlTransport and records what was sent, so tests
// can check request counts and headers (it is a decorator, not a mock).
class RecordingTransport final : public s3::HttpTransport {
  public:
    struct Sent {
        std::string method;
        std::string url;
        std::map<std::string, std::string> headers;
        long status;
    };
    explicit RecordingTransport(std::vector<Sent>& log) : log_(log) {}
    s3::HttpResponse perform(const s3::HttpRequest& r) override {
        s3::HttpResponse resp = real_.perform(r);
        log_.push_back({r.method, r.url, r.headers, resp.status});
        return resp;
    }

  private:
    s3::CurlTransport real_;
    std::vector<Sent>& log_;
};

std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (auto& c : out) {
        c = static_cast<char>(gen() & 0xff);
    }
    return out;
}

class S3ClientTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { server_ = new test_support::S3Server(); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }

    s3::Options options() const {
        return s3::Options{.endpoint = server_->endpoint(),
                           .access_key = server_->access_key(),
                           .secret_key = server_->secret_key(),
                           .max_retries = 0};
    }

    std::unique_ptr<s3::S3Client> client(s3::Options o) {
        return std::make_unique<s3::S3Client>(std::move(o),
                                              std::make_unique<RecordingTransport>(sent_));
    }

    // bucket creates a bucket named after the running test.
    std::string bucket(s3::S3Client& c) {
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        for (auto& ch : name) {
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        name = "t-" + name.substr(0, 50);
        c.create_bucket(name);
        return name;
    }

    size_t count(const std::string& method, const std::string& url_part) const {
        size_t n = 0;
        for (const auto& s : sent_) {
            n += s.method == method && s.url.find(url_part) != std::string::npos;
        }
        return n;
    }

    static test_support::S3Server* server_;
    std::vector<RecordingTransport::Sent> sent_;
    util::TempDir tmp_{"drak-s3-test"};
};

test_support::S3Server* S3ClientTest::server_ = nullptr;

TEST_F(S3ClientTest, BucketCreateAndExists) {
    auto c = client(options());
    EXPECT_FALSE(c->bucket_exists("t-bucketcreateandexists"));
    c->create_bucket("t-bucketcreateandexists");
    EXPECT_TRUE(c->bucket_exists("t-bucketcreateandexists"));
    try {
        c->create_bucket("t-bucketcreateandexists");
        FAIL() << "second create_bucket must fail on s3rver";
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.status(), 409);
        EXPECT_EQ(e.code(), "BucketAlreadyExists");
    }
}

// Several drakrun@N / drak-system processes start at once and each makes sure its bucket
// exists: the losers of the create race get 409 BucketAlreadyExists and must carry on.
TEST_F(S3ClientTest, EnsureBucketIsSafeWhenManyProcessesRaceToCreateIt) {
    const std::string name = "t-ensure-race";
    constexpr int kRacers = 8;
    std::vector<std::thread> racers;
    std::atomic<int> created{0};
    std::atomic<int> failed{0};
    std::atomic<bool> go{false};
    for (int i = 0; i < kRacers; ++i) {
        racers.emplace_back([&] {
            s3::S3Client c(options());
            while (!go) {
                std::this_thread::yield();
            }
            try {
                created += c.ensure_bucket(name) ? 1 : 0;
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
                ++failed;
            }
        });
    }
    go = true;
    for (auto& t : racers) {
        t.join();
    }
    EXPECT_EQ(failed, 0);
    EXPECT_GE(created, 1) << "one racer must have created the bucket";
    auto c = client(options());
    EXPECT_TRUE(c->bucket_exists(name));
    EXPECT_FALSE(c->ensure_bucket(name)) << "an existing bucket is not created again";
}

TEST_F(S3ClientTest, PutGetRoundTripWithAwkwardKeys) {
    auto c = client(options());
    std::string b = bucket(*c);
    std::string data = random_bytes(100'000, 1) + std::string("\0tail", 5);
    for (std::string key :
         {"plain", "a b/c+d=e/\xE2\x9C\x93.txt", "dir/sub/x~y_z-1.bin", "dots/../x/./y"}) {
        SCOPED_TRACE(key);
        std::string etag = c->put_object(b, key, data);
        EXPECT_EQ(etag, util::to_hex(util::md5(data)));
        EXPECT_EQ(c->get_object(b, key), data);
        auto info = c->head_object(b, key);
        ASSERT_TRUE(info.has_value());
        EXPECT_EQ(info->size, data.size());
        EXPECT_EQ(info->etag, etag);
    }
    // The single PUT carries Content-MD5 like the reference SDK (§13).
    ASSERT_FALSE(sent_.empty());
    EXPECT_GE(count("PUT", "/plain"), 1u);
    for (const auto& s : sent_) {
        if (s.method == "PUT" && s.url.find("/plain") != std::string::npos) {
            EXPECT_EQ(s.headers.at("Content-MD5"), util::base64(util::md5(data)));
        }
    }
    c->put_object(b, "empty", "");
    EXPECT_EQ(c->get_object(b, "empty"), "");
    EXPECT_EQ(c->head_object(b, "empty")->size, 0u);
}

TEST_F(S3ClientTest, MissingKeyAndMissingBucket) {
    auto c = client(options());
    std::string b = bucket(*c);
    EXPECT_FALSE(c->head_object(b, "nope").has_value());
    try {
        c->get_object(b, "nope");
        FAIL() << "expected NoSuchKey";
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.status(), 404);
        EXPECT_EQ(e.code(), "NoSuchKey");
        EXPECT_EQ(e.key(), "nope");
        EXPECT_NE(std::string(e.what()).find("NoSuchKey"), std::string::npos);
    }
    for (auto op : {0, 1, 2}) {
        try {
            if (op == 0) c->get_object("t-no-such-bucket", "k");
            if (op == 1) c->put_object("t-no-such-bucket", "k", "data");
            if (op == 2) c->list_objects_v2("t-no-such-bucket");
            FAIL() << "expected NoSuchBucket for op " << op;
        } catch (const s3::S3Error& e) {
            EXPECT_EQ(e.status(), 404);
            EXPECT_EQ(e.code(), "NoSuchBucket");
            EXPECT_EQ(e.bucket(), "t-no-such-bucket");
            EXPECT_NE(e.hint().find("bucket does not exist"), std::string::npos);
        }
    }
    EXPECT_FALSE(c->head_object("t-no-such-bucket", "k").has_value());

    // A failed download reports the precise error and leaves nothing behind.
    try {
        c->download_file(b, "nope", tmp_.path() / "out.bin");
        FAIL() << "expected NoSuchKey";
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.code(), "NoSuchKey");
    }
    EXPECT_TRUE(std::filesystem::is_empty(tmp_.path()));
}

TEST_F(S3ClientTest, EmptyFileRoundTrip) {
    auto c = client(options());
    std::string b = bucket(*c);
    auto src = tmp_.path() / "empty";
    util::write_file_atomic(src, "");
    EXPECT_EQ(c->put_file(b, "empty", src), util::to_hex(util::md5("")));
    EXPECT_EQ(c->download_file(b, "empty", tmp_.path() / "empty.out"), 0u);
    EXPECT_EQ(util::read_file(tmp_.path() / "empty.out"), "");
}

// max_size: the HEAD's size decides, before one GET is sent; at the limit it downloads.
TEST_F(S3ClientTest, DownloadOverMaxSizeIsRefusedBeforeAnyGet) {
    auto c = client(options());
    std::string b = bucket(*c);
    c->put_object(b, "k", std::string(1000, 'x'));
    const auto gets_before = count("GET", "/k");
    try {
        c->download_file(b, "k", tmp_.path() / "big.out", 999);
        FAIL() << "expected ObjectTooLarge";
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.code(), "ObjectTooLarge");
        EXPECT_NE(e.message().find("1000 bytes"), std::string::npos) << e.message();
    }
    EXPECT_EQ(count("GET", "/k"), gets_before) << "nothing may be fetched";
    EXPECT_FALSE(std::filesystem::exists(tmp_.path() / "big.out"));
    EXPECT_EQ(c->download_file(b, "k", tmp_.path() / "ok.out", 1000), 1000u);
}

TEST_F(S3ClientTest, StreamsTwentyMegabyteFileUpAndDown) {
    auto c = client(options());
    std::string b = bucket(*c);
    auto src = tmp_.path() / "src.bin";
    std::string data = random_bytes(20 * 1000 * 1000 + 17, 2);
    util::write_file_atomic(src, data);
    std::string sha = util::sha256_hex(data);

    c->put_file(b, "big/file.bin", src);
    EXPECT_EQ(count("PUT", "/big/file.bin"), 1u);  // below the multipart threshold: one PUT
    EXPECT_EQ(sent_.back().headers.at("Content-MD5"), util::base64(util::md5(data)));

    auto dst = tmp_.path() / "dst.bin";
    EXPECT_EQ(c->download_file(b, "big/file.bin", dst), data.size());
    EXPECT_EQ(util::sha256_file_hex(dst), sha);
    // HEAD then ranged GETs of 8 MiB: 3 ranges for 20 MB (§13).
    EXPECT_EQ(count("HEAD", "/big/file.bin"), 1u);
    size_t ranged = 0;
    for (const auto& s : sent_) {
        if (s.method == "GET" && s.headers.count("Range")) {
            ++ranged;
            EXPECT_EQ(s.status, 206);
        }
    }
    EXPECT_EQ(ranged, 3u);
    // No temp file is left next to the destination.
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp_.path())) {
        ++files;
    }
    EXPECT_EQ(files, 2u);
}

TEST_F(S3ClientTest, MultipartUploadAboveThreshold) {
    auto o = options();
    o.multipart_threshold = 5 * s3::Options::kMiB;
    o.part_size = 5 * s3::Options::kMiB;
    auto c = client(o);
    std::string b = bucket(*c);
    auto src = tmp_.path() / "mp.bin";
    std::string data = random_bytes(12 * s3::Options::kMiB + 123, 3);
    util::write_file_atomic(src, data);

    EXPECT_FALSE(c->put_file(b, "mp.bin", src).empty());
    EXPECT_EQ(count("POST", "/mp.bin?uploads"), 1u);
    EXPECT_EQ(count("PUT", "/mp.bin?partNumber="), 3u);
    EXPECT_EQ(count("POST", "/mp.bin?uploadId="), 1u);

    auto dst = tmp_.path() / "mp.out";
    EXPECT_EQ(c->download_file(b, "mp.bin", dst), data.size());
    EXPECT_EQ(util::sha256_file_hex(dst), util::sha256_hex(data));
    EXPECT_EQ(c->head_object(b, "mp.bin")->size, data.size());
}

TEST_F(S3ClientTest, RangedGet) {
    auto c = client(options());
    std::string b = bucket(*c);
    std::string data = "0123456789abcdefghijklmnopqrstuvwxyz";
    c->put_object(b, "r", data);
    EXPECT_EQ(c->get_object_range(b, "r", 10, 19), "abcdefghij");
    EXPECT_EQ(c->get_object_range(b, "r", 30), "uvwxyz");
    EXPECT_EQ(c->get_object_range(b, "r", 0, 0), "0");
    try {
        c->get_object_range(b, "r", 100, 200);
        FAIL() << "expected InvalidRange";
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.status(), 416);
        EXPECT_EQ(e.code(), "InvalidRange");
    }
}

TEST_F(S3ClientTest, ListV2Paginates) {
    auto c = client(options());
    std::string b = bucket(*c);
    std::vector<std::string> keys;
    for (int i = 0; i < 25; ++i) {
        char k[32];
        std::snprintf(k, sizeof k, "p/key-%02d", i);
        keys.push_back(k);
        c->put_object(b, k, std::to_string(i));
    }
    c->put_object(b, "q/other", "x");

    auto first = c->list_objects_v2_page(b, "p/", "", 7);
    EXPECT_EQ(first.objects.size(), 7u);
    EXPECT_TRUE(first.truncated);
    EXPECT_FALSE(first.next_continuation_token.empty());

    sent_.clear();
    auto all = c->list_objects_v2(b, "p/", 7);
    ASSERT_EQ(all.size(), 25u);
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].key, keys[i]);
        EXPECT_EQ(all[i].size, std::to_string(i).size());
    }
    EXPECT_EQ(sent_.size(), 4u);  // 7 + 7 + 7 + 4
    EXPECT_EQ(c->list_objects_v2(b).size(), 26u);
}

TEST_F(S3ClientTest, ListObjectVersionsFallsBackOnS3rver) {
    auto c = client(options());
    std::string b = bucket(*c);
    c->put_object(b, "v1", "a");
    c->put_object(b, "v2", "bb");
    auto versions = c->list_object_versions(b);
    ASSERT_EQ(versions.size(), 2u);
    EXPECT_EQ(versions[0].key, "v1");
    EXPECT_EQ(versions[0].version_id, "null");
    EXPECT_TRUE(versions[0].is_latest);
    EXPECT_EQ(versions[1].size, 2u);
    EXPECT_EQ(count("GET", "?encoding-type=url&versions"), 1u);  // tried the real call first
}

TEST_F(S3ClientTest, BatchDelete) {
    auto c = client(options());
    std::string b = bucket(*c);
    std::vector<s3::ObjectId> ids;
    for (int i = 0; i < 30; ++i) {
        std::string k = "d/" + std::to_string(i) + (i % 2 ? " & <odd>" : "");
        c->put_object(b, k, "x");
        ids.push_back({.key = k});
    }
    c->put_object(b, "keep", "x");
    sent_.clear();
    s3::DeleteResult r = c->delete_objects(b, ids, 10);
    EXPECT_EQ(r.deleted.size(), 30u);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(sent_.size(), 3u);
    for (const auto& s : sent_) {
        EXPECT_EQ(s.method, "POST");
        EXPECT_NE(s.url.find("?delete"), std::string::npos);
        EXPECT_EQ(s.headers.count("Content-MD5"), 1u);
    }
    auto left = c->list_objects_v2(b);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].key, "keep");

    c->delete_object(b, "keep");
    c->delete_object(b, "never-existed");  // S3 semantics: not an error
    EXPECT_TRUE(c->list_objects_v2(b).empty());
}

TEST_F(S3ClientTest, WrongSecretIsSignatureDoesNotMatch) {
    auto good = client(options());
    std::string b = bucket(*good);
    auto o = options();
    o.secret_key = "not-the-secret";
    auto bad = client(o);
    try {
        bad->put_object(b, "k", "v");
        FAIL() << "expected SignatureDoesNotMatch";
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.status(), 403);
        EXPECT_EQ(e.code(), "SignatureDoesNotMatch");
        EXPECT_FALSE(e.hint().empty());
    }
    o = options();
    o.access_key = "unknown-key";
    try {
        client(o)->get_object(b, "k");
        FAIL() << "expected InvalidAccessKeyId";
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.code(), "InvalidAccessKeyId");
    }
}

TEST(S3ClientNoServer, StoppedServerGivesNetworkErrorAfterRetries) {
    test_support::S3Server server;
    std::vector<RecordingTransport::Sent> sent;
    s3::S3Client c(s3::Options{.endpoint = server.endpoint(),
                               .access_key = server.access_key(),
                               .secret_key = server.secret_key(),
                               .max_retries = 2,
                               .retry_delay = std::chrono::milliseconds(1)},
                   std::make_unique<RecordingTransport>(sent));
    c.create_bucket("t-stopped");
    server.stop();
    sent.clear();
    try {
        c.get_object("t-stopped", "k");
        FAIL() << "expected a network error";
    } catch (const s3::S3Error& e) {
        EXPECT_TRUE(e.is_network_error());
        EXPECT_EQ(e.status(), 0);
        EXPECT_NE(std::string(e.what()).find(server.endpoint()), std::string::npos) << e.what();
        EXPECT_NE(e.hint().find("server is running"), std::string::npos);
    }
    EXPECT_EQ(sent.size(), 3u);  // first attempt + 2 retries
}

}  // namespace

namespace {

// CurlTransport on its own (s3rver serves unsigned requests too).
TEST(CurlTransport, BodyLimitSinkErrorsAndHeaders) {
    test_support::S3Server server;
    s3::S3Client c(s3::Options{.endpoint = server.endpoint(),
                               .access_key = server.access_key(),
                               .secret_key = server.secret_key(),
                               .max_retries = 0});
    c.create_bucket("t-transport");
    std::string data(2 * 1024 * 1024, 'x');
    c.put_object("t-transport", "k", data);

    s3::CurlTransport t;
    std::string url = server.endpoint() + "/t-transport/k";
    s3::HttpResponse r = t.perform({.method = "GET", .url = url, .max_body_bytes = 1024});
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.body_truncated);
    EXPECT_NE(r.error.find("exceeds 1024 bytes"), std::string::npos);

    size_t got = 0;
    r = t.perform(
        {.method = "GET", .url = url, .sink = [&got](std::string_view c) { got += c.size(); }});
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(got, data.size());
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.headers.at("content-length"), std::to_string(data.size()));

    // An exception thrown by the sink reaches the caller; the handle stays usable.
    EXPECT_THROW(t.perform({.method = "GET",
                            .url = url,
                            .sink = [](std::string_view) { throw util::Error("disk full"); }}),
                 util::Error);
    // Error bodies never go to the sink.
    r = t.perform({.method = "GET",
                   .url = server.endpoint() + "/t-transport/missing",
                   .sink = [](std::string_view) { ADD_FAILURE() << "sink got an error body"; }});
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("NoSuchKey"), std::string::npos);

    r = t.perform({.method = "GET", .url = "http://127.0.0.1:1/x"});
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.error.empty());
}

}  // namespace
