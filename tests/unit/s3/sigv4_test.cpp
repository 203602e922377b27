// Every row of shared/spec/s3-vectors/sigv4.jsonl, byte for byte (karton-protocol.md §13).
#include "s3/sigv4.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "util/crypto.hpp"
#include "util/error.hpp"

namespace {

std::string unhex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return out;
}

TEST(SigV4, EveryVectorByteForByte) {
    auto lines = test_support::read_lines(test_support::shared_dir() / "spec" / "s3-vectors" /
                                          "sigv4.jsonl");
    ASSERT_GE(lines.size(), 12u);
    for (const auto& line : lines) {
        auto v = nlohmann::json::parse(line);
        SCOPED_TRACE(v["method"].get<std::string>() + " " + v["url"].get<std::string>());
        std::map<std::string, std::string> headers;
        for (const auto& [k, val] : v["request_headers_in"].items()) {
            headers[k] = val.get<std::string>();
        }
        s3::SignedRequest r = s3::sign_v4({
            .method = v["method"],
            .url = v["url"],
            .region = v["region"],
            .service = v["service"],
            .access_key = v["access_key"],
            .secret_key = v["secret_key"],
            .amz_date = v["amz_date"],
            .payload_hash = util::sha256_hex(unhex(v["body_hex"])),
            .headers = headers,
        });
        EXPECT_EQ(r.canonical_request, v["canonical_request"].get<std::string>());
        EXPECT_EQ(r.string_to_sign, v["string_to_sign"].get<std::string>());
        EXPECT_EQ(r.authorization, v["authorization"].get<std::string>());
        std::map<std::string, std::string> sent;
        for (const auto& [k, val] : v["headers_sent"].items()) {
            sent[k] = val.get<std::string>();
        }
        EXPECT_EQ(r.headers, sent);
    }
}

TEST(SigV4, UriEncodeRules) {
    EXPECT_EQ(s3::uri_encode("a b/c~d.e_f-g"), "a%20b%2Fc~d.e_f-g");
    EXPECT_EQ(s3::uri_encode("a b/c", true), "a%20b/c");
    EXPECT_EQ(s3::uri_encode("\xE2\x9C\x93+="), "%E2%9C%93%2B%3D");
    EXPECT_EQ(s3::uri_decode("a%20b%2fc+d"), "a b/c+d");
    EXPECT_EQ(s3::uri_decode("a+b", true), "a b");
    EXPECT_EQ(s3::uri_decode("bad%zz%4"), "bad%zz%4");
}

TEST(SigV4, HostHeaderDropsDefaultPorts) {
    EXPECT_EQ(s3::canonical_host("http://h:80/x"), "h");
    EXPECT_EQ(s3::canonical_host("https://h:443"), "h");
    EXPECT_EQ(s3::canonical_host("https://h:80"), "h:80");
    EXPECT_EQ(s3::canonical_host("http://[::1]:9000/k"), "[::1]:9000");
}

TEST(SigV4, QueryIsSortedAndReencoded) {
    auto r = s3::sign_v4({.method = "GET",
                          .url = "http://h/b?z=1&a=x y&versions&a=%41",
                          .access_key = "k",
                          .secret_key = "s",
                          .amz_date = "20261127T123456Z",
                          .payload_hash = "UNSIGNED-PAYLOAD"});
    EXPECT_NE(r.canonical_request.find("\na=A&a=x%20y&versions=&z=1\n"), std::string::npos)
        << r.canonical_request;
}

TEST(SigV4, RejectsMalformedInput) {
    EXPECT_THROW(s3::sign_v4({.method = "GET", .url = "no-scheme", .amz_date = "20261127T123456Z"}),
                 util::InputError);
    EXPECT_THROW(s3::sign_v4({.method = "GET", .url = "http://h/", .amz_date = "2026-11-27"}),
                 util::InputError);
    EXPECT_THROW(s3::canonical_host("http://[::1/x"), util::InputError);
    EXPECT_THROW(s3::canonical_host("http://h:8a/x"), util::InputError);
}

TEST(SigV4, AmzDateFormatsUtc) { EXPECT_EQ(s3::amz_date(1700000000.5), "20231114T221320Z"); }

}  // namespace
