// S3Client protocol logic over a scripted in-process transport (no network): retries, error
// mapping, batching, pagination, fallbacks, input validation. Spec §13, §9.2.
#include "s3/client.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "s3/sigv4.hpp"
#include "util/crypto.hpp"
#include "util/fs.hpp"

namespace {

// ScriptedTransport answers requests from a queue and records them.
class ScriptedTransport final : public s3::HttpTransport {
  public:
    struct Seen {
        std::string method;
        std::string url;
        std::map<std::string, std::string> headers;
        std::string body;
    };
    ScriptedTransport(std::deque<s3::HttpResponse>& script, std::vector<Seen>& seen)
        : script_(script), seen_(seen) {}

    s3::HttpResponse perform(const s3::HttpRequest& r) override {
        Seen s{r.method, r.url, r.headers, std::string(r.body)};
        if (r.open_body) {
            s3::BodyReader read = r.open_body();
            std::string buf(4096, '\0');
            size_t n;
            while (s.body.size() < r.body_size && (n = read(buf.data(), buf.size())) > 0) {
                s.body.append(buf.data(), n);
            }
        }
        seen_.push_back(std::move(s));
        if (script_.empty()) {
            ADD_FAILURE() << "unexpected request " << r.method << " " << r.url;
            return s3::HttpResponse{.error = "no scripted answer"};
        }
        s3::HttpResponse resp = std::move(script_.front());
        script_.pop_front();
        if (resp.ok() && r.sink) {
            r.sink(resp.body);
            resp.body.clear();
        }
        return resp;
    }

  private:
    std::deque<s3::HttpResponse>& script_;
    std::vector<Seen>& seen_;
};

s3::HttpResponse answer(long status, std::string body = "",
                        std::map<std::string, std::string> headers = {}) {
    return s3::HttpResponse{
        .status = status, .headers = std::move(headers), .body = std::move(body)};
}

std::string error_xml(const std::string& code) {
    return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>m</Message></Error>";
}

class S3ClientUnit : public ::testing::Test {
  protected:
    s3::S3Client make(int retries = 0) {
        return s3::S3Client(s3::Options{.endpoint = "http://127.0.0.1:9000/",
                                        .access_key = "AK",
                                        .secret_key = "SK",
                                        .max_retries = retries,
                                        .retry_delay = std::chrono::milliseconds(1)},
                            std::make_unique<ScriptedTransport>(script_, seen_), clock_);
    }
    std::deque<s3::HttpResponse> script_;
    std::vector<ScriptedTransport::Seen> seen_;
    util::FixedStepClock clock_{1700000000.0, 1.0};
};

TEST_F(S3ClientUnit, SignsWithInjectedClockAndPathStyleUrl) {
    auto c = make();
    script_.push_back(answer(200, "", {{"etag", "\"e\""}}));
    EXPECT_EQ(c.put_object("karton", "a b/c", "hello"), "e");
    ASSERT_EQ(seen_.size(), 1u);
    EXPECT_EQ(seen_[0].url, "http://127.0.0.1:9000/karton/a%20b/c");
    EXPECT_EQ(seen_[0].headers.at("X-Amz-Date"), s3::amz_date(1700000000.0));
    EXPECT_EQ(seen_[0].headers.at("X-Amz-Content-SHA256"), util::sha256_hex("hello"));
    EXPECT_EQ(seen_[0].headers.at("Content-MD5"), util::base64(util::md5("hello")));
    EXPECT_NE(seen_[0].headers.at("Authorization").find("Credential=AK/20231114/us-east-1/s3/"),
              std::string::npos);
    EXPECT_EQ(seen_[0].body, "hello");
}

TEST_F(S3ClientUnit, RetriesTransientFailuresThenSucceeds) {
    auto c = make(3);
    script_.push_back(s3::HttpResponse{.error = "Couldn't connect to server"});
    script_.push_back(answer(503, error_xml("SlowDown")));
    script_.push_back(answer(400, error_xml("RequestTimeout")));
    script_.push_back(answer(200, "data"));
    EXPECT_EQ(c.get_object("b", "k"), "data");
    EXPECT_EQ(seen_.size(), 4u);
    // Every attempt is signed afresh with a new date.
    EXPECT_NE(seen_[0].headers.at("X-Amz-Date"), seen_[3].headers.at("X-Amz-Date"));
}

TEST_F(S3ClientUnit, NoRetryWhenDisabledOrNotTransient) {
    auto c = make(0);
    script_.push_back(answer(503, error_xml("SlowDown")));
    try {
        c.get_object("b", "k");
        FAIL();
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.status(), 503);
        EXPECT_EQ(e.code(), "SlowDown");
    }
    EXPECT_EQ(seen_.size(), 1u);

    auto r = make(3);
    script_.push_back(answer(403, error_xml("AccessDenied")));
    EXPECT_THROW(r.get_object("b", "k"), s3::S3Error);
    EXPECT_EQ(seen_.size(), 2u);  // 4xx is final
}

TEST_F(S3ClientUnit, HeadAnswersWithoutBody) {
    auto c = make();
    script_.push_back(answer(404));
    EXPECT_FALSE(c.bucket_exists("b"));
    script_.push_back(answer(200));
    EXPECT_TRUE(c.bucket_exists("b"));
    script_.push_back(answer(403));
    try {
        c.bucket_exists("b");
        FAIL();
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.code(), "Forbidden");
        EXPECT_NE(e.hint().find("clock"), std::string::npos);
    }
    script_.push_back(answer(200, "", {{"content-length", "42"}, {"etag", "\"x\""}}));
    auto info = c.head_object("b", "k");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->size, 42u);
    EXPECT_EQ(info->etag, "x");
    script_.push_back(answer(200, "", {{"content-length", "4x"}}));
    EXPECT_THROW(c.head_object("b", "k"), s3::S3Error);
}

TEST_F(S3ClientUnit, DeleteObjectsBatchesAndReportsPerKeyErrors) {
    auto c = make();
    std::vector<s3::ObjectId> ids;
    for (int i = 0; i < 2500; ++i) {
        ids.push_back({.key = "k" + std::to_string(i), .version_id = i == 0 ? "v0" : ""});
    }
    script_.push_back(answer(200,
                             "<DeleteResult><Deleted><Key>k0</Key><VersionId>v0</VersionId>"
                             "</Deleted></DeleteResult>"));
    script_.push_back(answer(200,
                             "<DeleteResult><Error><Key>k1000</Key><Code>AccessDenied"
                             "</Code><Message>no</Message></Error></DeleteResult>"));
    script_.push_back(answer(200, "<DeleteResult/>"));
    s3::DeleteResult r = c.delete_objects("b", ids);
    ASSERT_EQ(seen_.size(), 3u);
    for (const auto& s : seen_) {
        EXPECT_EQ(s.method, "POST");
        EXPECT_EQ(s.url, "http://127.0.0.1:9000/b?delete");
        EXPECT_EQ(s.headers.at("Content-MD5"), util::base64(util::md5(s.body)));
        EXPECT_EQ(s.headers.at("Content-Type"), "application/xml");
    }
    EXPECT_NE(seen_[0].body.find("<Object><Key>k0</Key><VersionId>v0</VersionId></Object>"),
              std::string::npos);
    EXPECT_NE(seen_[0].body.find("<Key>k999</Key>"), std::string::npos);
    EXPECT_EQ(seen_[0].body.find("<Key>k1000</Key>"), std::string::npos);
    ASSERT_EQ(r.deleted.size(), 1u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].key, "k1000");
    EXPECT_EQ(r.errors[0].code, "AccessDenied");

    EXPECT_THROW(c.delete_objects("b", ids, 1001), s3::S3Error);
    EXPECT_THROW(c.delete_objects("b", ids, 0), s3::S3Error);
    script_.push_back(answer(200, "not xml"));
    try {
        c.delete_objects("b", {{.key = "a", .version_id = ""}});
        FAIL();
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.code(), "InvalidResponse");
    }
}

TEST_F(S3ClientUnit, ListObjectVersionsPaginatesWithMarkers) {
    auto c = make();
    script_.push_back(
        answer(200,
               "<ListVersionsResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
               "<NextKeyMarker>a%2Fb</NextKeyMarker><NextVersionIdMarker>v1</NextVersionIdMarker>"
               "<Version><Key>a%2Fb</Key><VersionId>v1</VersionId><Size>3</Size></Version>"
               "</ListVersionsResult>"));
    script_.push_back(answer(200,
                             "<ListVersionsResult><IsTruncated>false</IsTruncated>"
                             "<DeleteMarker><Key>c</Key><VersionId>v2</VersionId></DeleteMarker>"
                             "</ListVersionsResult>"));
    auto v = c.list_object_versions("karton");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].key, "a/b");
    EXPECT_TRUE(v[1].is_delete_marker);
    EXPECT_EQ(seen_[0].url, "http://127.0.0.1:9000/karton?encoding-type=url&versions");
    EXPECT_EQ(seen_[1].url,
              "http://127.0.0.1:9000/karton?encoding-type=url&key-marker=a%2Fb&"
              "version-id-marker=v1&versions");
}

TEST_F(S3ClientUnit, ListObjectVersionsFallsBackToListV2) {
    auto c = make();
    script_.push_back(answer(501, error_xml("NotImplemented")));
    script_.push_back(answer(200,
                             "<ListBucketResult><Contents><Key>x</Key><Size>1</Size>"
                             "</Contents></ListBucketResult>"));
    auto v = c.list_object_versions("karton");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].key, "x");
    EXPECT_EQ(v[0].version_id, "null");
    EXPECT_NE(seen_[1].url.find("list-type=2"), std::string::npos);

    // Any other failure is reported, not papered over.
    script_.push_back(answer(403, error_xml("AccessDenied")));
    EXPECT_THROW(c.list_object_versions("karton"), s3::S3Error);
}

TEST_F(S3ClientUnit, ListV2DetectsRepeatedToken) {
    auto c = make();
    for (int i = 0; i < 2; ++i) {
        script_.push_back(answer(200,
                                 "<ListBucketResult><IsTruncated>true</IsTruncated>"
                                 "<NextContinuationToken>same</NextContinuationToken>"
                                 "</ListBucketResult>"));
    }
    EXPECT_THROW(c.list_objects_v2("b"), s3::S3Error);
    EXPECT_EQ(seen_.size(), 2u);
}

TEST_F(S3ClientUnit, GetObjectRespectsMemoryLimit) {
    s3::S3Client c(s3::Options{.endpoint = "http://h:1",
                               .access_key = "AK",
                               .secret_key = "SK",
                               .max_in_memory_object = 4,
                               .max_retries = 0},
                   std::make_unique<ScriptedTransport>(script_, seen_), clock_);
    script_.push_back(answer(200, "12345"));
    try {
        c.get_object("b", "k");
        FAIL();
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.code(), "ObjectTooLarge");
    }
}

TEST_F(S3ClientUnit, NetworkErrorNamesEndpoint) {
    auto c = make();
    script_.push_back(s3::HttpResponse{.error = "Couldn't connect to server"});
    try {
        c.put_object("b", "k", "x");
        FAIL();
    } catch (const s3::S3Error& e) {
        EXPECT_TRUE(e.is_network_error());
        EXPECT_NE(std::string(e.what()).find("http://127.0.0.1:9000"), std::string::npos);
    }
}

TEST_F(S3ClientUnit, RejectsBadConfigurationAndNames) {
    auto cfg = [](std::string ep) {
        return s3::Options{.endpoint = std::move(ep), .access_key = "a", .secret_key = "s"};
    };
    EXPECT_THROW(s3::S3Client(cfg("ftp://h")), s3::S3Error);
    EXPECT_THROW(s3::S3Client(cfg("http://h/prefix")), s3::S3Error);
    EXPECT_THROW(s3::S3Client(cfg("http://[::1")), s3::S3Error);
    EXPECT_THROW(s3::S3Client(s3::Options{.endpoint = "http://h"}), s3::S3Error);
    auto c = make();
    EXPECT_THROW(c.get_object("b", ""), s3::S3Error);
    EXPECT_THROW(c.get_object("bad/bucket", "k"), s3::S3Error);
    EXPECT_THROW(c.get_object("b", std::string(1025, 'k')), s3::S3Error);
    EXPECT_THROW(c.get_object_range("b", "k", 5, 4), s3::S3Error);
    EXPECT_THROW(c.list_objects_v2_page("b", "", "", 0), s3::S3Error);
    EXPECT_THROW(c.put_file("b", "k", "/nonexistent/file"), s3::S3Error);
    EXPECT_TRUE(seen_.empty());  // nothing was sent
}

class S3ClientMultipart : public S3ClientUnit {
  protected:
    s3::S3Client make_mp() {
        return s3::S3Client(s3::Options{.endpoint = "http://h:9000",
                                        .access_key = "AK",
                                        .secret_key = "SK",
                                        .multipart_threshold = 1024,
                                        .part_size = s3::Options::kMinPartSize,
                                        .max_retries = 0},
                            std::make_unique<ScriptedTransport>(script_, seen_), clock_);
    }
    std::filesystem::path file(size_t size) {
        auto p = dir_.path() / "f.bin";
        std::string data(size, '\0');
        for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7);
        util::write_file_atomic(p, data);
        data_ = data;
        return p;
    }
    util::TempDir dir_{"drak-s3-unit"};
    std::string data_;
};

TEST_F(S3ClientMultipart, PartsAreStreamedAndCompleted) {
    auto c = make_mp();
    auto p = file(s3::Options::kMinPartSize + 10);
    script_.push_back(answer(200,
                             "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                             "</InitiateMultipartUploadResult>"));
    script_.push_back(answer(200, "", {{"etag", "\"e1\""}}));
    script_.push_back(answer(200, "", {{"etag", "\"e2\""}}));
    script_.push_back(answer(200,
                             "<CompleteMultipartUploadResult><ETag>\"all-2\"</ETag>"
                             "</CompleteMultipartUploadResult>"));
    EXPECT_EQ(c.put_file("b", "k", p), "all-2");
    ASSERT_EQ(seen_.size(), 4u);
    EXPECT_EQ(seen_[0].url, "http://h:9000/b/k?uploads");
    EXPECT_EQ(seen_[1].url, "http://h:9000/b/k?partNumber=1&uploadId=U1");
    EXPECT_EQ(seen_[1].body, data_.substr(0, s3::Options::kMinPartSize));
    EXPECT_EQ(seen_[1].headers.at("X-Amz-Content-SHA256"), util::sha256_hex(seen_[1].body));
    EXPECT_EQ(seen_[1].headers.at("Content-MD5"), util::base64(util::md5(seen_[1].body)));
    EXPECT_EQ(seen_[2].body, data_.substr(s3::Options::kMinPartSize));
    EXPECT_EQ(seen_[3].url, "http://h:9000/b/k?uploadId=U1");
    EXPECT_NE(seen_[3].body.find("<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
                                 "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"),
              std::string::npos);
}

TEST_F(S3ClientMultipart, FailedPartAbortsTheUpload) {
    auto c = make_mp();
    auto p = file(s3::Options::kMinPartSize + 10);
    script_.push_back(answer(200,
                             "<InitiateMultipartUploadResult><UploadId>U2</UploadId>"
                             "</InitiateMultipartUploadResult>"));
    script_.push_back(answer(500, error_xml("InternalError")));
    script_.push_back(answer(204));
    try {
        c.put_file("b", "k", p);
        FAIL();
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.operation(), "UploadPart");
        EXPECT_EQ(e.code(), "InternalError");
    }
    ASSERT_EQ(seen_.size(), 3u);
    EXPECT_EQ(seen_[2].method, "DELETE");
    EXPECT_EQ(seen_[2].url, "http://h:9000/b/k?uploadId=U2");
}

TEST_F(S3ClientMultipart, CompleteWithErrorBodyIsAFailure) {
    auto c = make_mp();
    auto p = file(2048);
    script_.push_back(answer(200,
                             "<InitiateMultipartUploadResult><UploadId>U3</UploadId>"
                             "</InitiateMultipartUploadResult>"));
    script_.push_back(answer(200, "", {{"etag", "\"e1\""}}));
    // S3 may answer 200 and put the error in the body of CompleteMultipartUpload.
    script_.push_back(answer(200, error_xml("InternalError")));
    script_.push_back(answer(204));
    try {
        c.put_file("b", "k", p);
        FAIL();
    } catch (const s3::S3Error& e) {
        EXPECT_EQ(e.code(), "InvalidResponse");
        EXPECT_NE(std::string(e.what()).find("InternalError"), std::string::npos);
    }
    EXPECT_EQ(seen_.back().method, "DELETE");
}

}  // namespace
