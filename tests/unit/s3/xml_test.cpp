// Pure S3 XML parsers and builders (s3/internal/xml.hpp), including hostile documents.
#include "s3/internal/xml.hpp"

#include <gtest/gtest.h>

#include "util/error.hpp"

namespace {

using namespace s3::internal;

TEST(S3Xml, ParsesErrorDocument) {
    auto e = parse_error(
        "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key &amp; more"
        "</Message><RequestId>r1</RequestId></Error>");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code, "NoSuchKey");
    EXPECT_EQ(e->message, "The key & more");
    EXPECT_EQ(e->request_id, "r1");
    EXPECT_FALSE(parse_error("").has_value());
    EXPECT_FALSE(parse_error("<html>502 Bad Gateway</html>").has_value());
    EXPECT_FALSE(parse_error("<Error><Code>x</Code").has_value());
    EXPECT_FALSE(parse_error(std::string("\0\xff\xfe<", 4)).has_value());
}

TEST(S3Xml, ListV2PageAndUrlEncoding) {
    auto page = parse_list_v2(
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>tok/=</NextContinuationToken>"
        "<Contents><Key>a+b%2Bc%E2%9C%93</Key><Size>12</Size><ETag>\"abc\"</ETag>"
        "<LastModified>2026-11-27T00:00:00.000Z</LastModified></Contents>"
        "<Contents><Key>z</Key><Size>0</Size></Contents></ListBucketResult>");
    EXPECT_TRUE(page.truncated);
    EXPECT_EQ(page.next_continuation_token, "tok/=");
    ASSERT_EQ(page.objects.size(), 2u);
    EXPECT_EQ(page.objects[0].key, "a b+c\xE2\x9C\x93");
    EXPECT_EQ(page.objects[0].size, 12u);
    EXPECT_EQ(page.objects[0].etag, "abc");
    // Without <EncodingType> keys are taken literally.
    auto raw = parse_list_v2(
        "<ListBucketResult><Contents><Key>a+b%20</Key></Contents>"
        "</ListBucketResult>");
    EXPECT_EQ(raw.objects.at(0).key, "a+b%20");
}

TEST(S3Xml, ListVersionsKeepsMarkersAndOrder) {
    auto page = parse_list_versions(
        "<ListVersionsResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
        "<NextKeyMarker>k%202</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>"
        "<Version><Key>k1</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>"
        "<Size>5</Size></Version>"
        "<DeleteMarker><Key>k%202</Key><VersionId>v2</VersionId><IsLatest>false</IsLatest>"
        "</DeleteMarker></ListVersionsResult>");
    EXPECT_TRUE(page.truncated);
    EXPECT_EQ(page.next_key_marker, "k 2");
    EXPECT_EQ(page.next_version_id_marker, "v9");
    ASSERT_EQ(page.versions.size(), 2u);
    EXPECT_EQ(page.versions[0].version_id, "v1");
    EXPECT_TRUE(page.versions[0].is_latest);
    EXPECT_FALSE(page.versions[0].is_delete_marker);
    EXPECT_EQ(page.versions[0].size, 5u);
    EXPECT_EQ(page.versions[1].key, "k 2");
    EXPECT_TRUE(page.versions[1].is_delete_marker);
}

TEST(S3Xml, DeleteResultWithPerKeyErrors) {
    auto r = parse_delete_result(
        "<DeleteResult><Deleted><Key>a</Key></Deleted>"
        "<Deleted><Key>b</Key><VersionId>v</VersionId></Deleted>"
        "<Error><Key>c</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
        "</DeleteResult>");
    ASSERT_EQ(r.deleted.size(), 2u);
    EXPECT_EQ(r.deleted[1], (s3::ObjectId{.key = "b", .version_id = "v"}));
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].key, "c");
    EXPECT_EQ(r.errors[0].code, "AccessDenied");
    EXPECT_EQ(r.errors[0].message, "no");
}

TEST(S3Xml, HostileDocumentsGiveInputError) {
    EXPECT_THROW(parse_list_v2(""), util::InputError);
    EXPECT_THROW(parse_list_v2("<ListBucketResult><Contents>"), util::InputError);
    EXPECT_THROW(parse_list_v2("<Error><Code>x</Code></Error>"), util::InputError);
    EXPECT_THROW(parse_list_v2("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size>"
                               "</Contents></ListBucketResult>"),
                 util::InputError);
    EXPECT_THROW(parse_list_v2("<ListBucketResult><Contents><Key>a</Key>"
                               "<Size>99999999999999999999999</Size></Contents>"
                               "</ListBucketResult>"),
                 util::InputError);
    EXPECT_THROW(parse_list_v2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                               "</ListBucketResult>"),
                 util::InputError);
    EXPECT_THROW(parse_list_versions("<ListVersionsResult><IsTruncated>true</IsTruncated>"
                                     "</ListVersionsResult>"),
                 util::InputError);
    EXPECT_THROW(parse_upload_id("<InitiateMultipartUploadResult/>"), util::InputError);
    EXPECT_THROW(parse_complete_multipart("<Error><Code>InternalError</Code></Error>"),
                 util::InputError);
    EXPECT_EQ(parse_complete_multipart("<CompleteMultipartUploadResult><ETag>\"e-3\"</ETag>"
                                       "</CompleteMultipartUploadResult>"),
              "e-3");
}

TEST(S3Xml, DeepNestingAndEntitiesDoNotCrashOrExpand) {
    std::string deep;
    for (int i = 0; i < 200000; ++i) deep += "<a>";
    EXPECT_THROW(parse_list_v2(deep), util::InputError);  // unterminated
    std::string closed = "<ListBucketResult>" + deep;
    for (int i = 0; i < 200000; ++i) closed += "</a>";
    closed += "</ListBucketResult>";
    EXPECT_TRUE(parse_list_v2(closed).objects.empty());

    // Custom entities are never expanded ("billion laughs" stays small).
    std::string laughs =
        "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
        "<ListBucketResult><Contents><Key>&b;</Key></Contents></ListBucketResult>";
    auto page = parse_list_v2(laughs);
    ASSERT_EQ(page.objects.size(), 1u);
    EXPECT_LT(page.objects[0].key.size(), 10u);
}

TEST(S3Xml, BuildsDeleteBodyWithEscaping) {
    std::string body = build_delete_body(
        {{.key = "a&b<c>\"d\"", .version_id = ""}, {.key = "k", .version_id = "v1"}});
    EXPECT_EQ(body,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
              "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
              "<Object><Key>a&amp;b&lt;c&gt;\"d\"</Key></Object>"
              "<Object><Key>k</Key><VersionId>v1</VersionId></Object></Delete>");
    EXPECT_THROW(build_delete_body({{.key = std::string("a\x01", 2), .version_id = ""}}),
                 util::InputError);
    EXPECT_THROW(build_delete_body({{.key = std::string("a\0b", 3), .version_id = ""}}),
                 util::InputError);
}

TEST(S3Xml, BuildsCompleteMultipart) {
    EXPECT_EQ(build_complete_multipart({{1, "e1"}, {2, "e2"}}),
              "<?xml version=\"1.0\"?>"
              "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
              "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
              "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"
              "</CompleteMultipartUpload>");
}

}  // namespace
