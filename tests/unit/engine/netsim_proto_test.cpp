// Unit tests for the pure helpers of engine/native/netsim (DNS wire format, HTTP head).
#include "engine/native/netsim.hpp"

#include <gtest/gtest.h>

namespace engine::native {
namespace {

std::string query(const std::string& name, std::uint16_t qtype) {
    std::string p = {'\x12', '\x34', '\x01', '\x00', 0, 1, 0, 0, 0, 0, 0, 0};
    std::size_t start = 0;
    while (start <= name.size()) {
        auto dot = name.find('.', start);
        std::string label =
            name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        p.push_back(static_cast<char>(label.size()));
        p += label;
        if (dot == std::string::npos) {
            break;
        }
        start = dot + 1;
    }
    p.push_back(0);
    p.push_back(static_cast<char>(qtype >> 8));
    p.push_back(static_cast<char>(qtype & 0xff));
    p.push_back(0);
    p.push_back(1);
    return p;
}

TEST(NetSimDns, ParsesAndAnswersAQuery) {
    std::string p = query("Evil.Example.com", 1);
    auto q = parse_dns_query(p);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->id, 0x1234);
    EXPECT_EQ(q->name, "Evil.Example.com");
    EXPECT_EQ(q->qtype, 1);
    EXPECT_EQ(q->question_end, p.size());
    std::string r = build_dns_response(p, *q, "10.13.0.1");
    ASSERT_EQ(r.size(), p.size() + 16);
    EXPECT_EQ(r.substr(0, 4), std::string("\x12\x34\x81\x80", 4));
    EXPECT_EQ(r.substr(4, 8), std::string("\x00\x01\x00\x01\x00\x00\x00\x00", 8));
    EXPECT_EQ(r.substr(12, p.size() - 12), p.substr(12));
    EXPECT_EQ(r.substr(p.size()),
              std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x0d\x00\x01", 16));
}

TEST(NetSimDns, AaaaGetsEmptyNoError) {
    std::string p = query("a.b", 28);
    auto q = parse_dns_query(p);
    ASSERT_TRUE(q);
    std::string r = build_dns_response(p, *q, "10.13.0.1");
    EXPECT_EQ(r.size(), p.size());
    EXPECT_EQ(r[7], 0);  // ANCOUNT low byte
}

TEST(NetSimDns, RejectsMalformed) {
    EXPECT_FALSE(parse_dns_query(""));
    EXPECT_FALSE(parse_dns_query(std::string(11, '\0')));
    std::string p = query("a.b", 1);
    EXPECT_FALSE(parse_dns_query(p.substr(0, p.size() - 1)));  // truncated question
    std::string resp = p;
    resp[2] = '\x81';  // QR set: a response, not a query
    EXPECT_FALSE(parse_dns_query(resp));
    std::string ptr = p;
    ptr[12] = '\xc0';  // compression pointer in the question
    EXPECT_FALSE(parse_dns_query(ptr));
    std::string noq = p;
    noq[5] = 0;  // QDCOUNT 0
    EXPECT_FALSE(parse_dns_query(noq));
    std::string longname;
    for (int i = 0; i < 10; ++i) {
        longname += std::string(60, 'a') + ".";
    }
    longname += "com";
    EXPECT_FALSE(parse_dns_query(query(longname, 1)));
}

TEST(NetSimHttp, ParsesRequestHead) {
    auto r = parse_http_request(
        "GET /beacon?id=7 HTTP/1.1\r\nhost: c2.example.org\r\nUser-Agent:  Bot/1\r\n\r\nbody");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->method, "GET");
    EXPECT_EQ(r->uri, "/beacon?id=7");
    EXPECT_EQ(r->version, "HTTP/1.1");
    EXPECT_EQ(r->host, "c2.example.org");
    EXPECT_EQ(r->user_agent, "Bot/1");
    auto partial = parse_http_request("POST /x HTTP/1.0\r\nHost: h");
    ASSERT_TRUE(partial);
    EXPECT_EQ(partial->host, "h");
}

TEST(NetSimHttp, RejectsNonHttp) {
    EXPECT_FALSE(parse_http_request(""));
    EXPECT_FALSE(parse_http_request("\x16\x03\x01\x02\x00"));
    EXPECT_FALSE(parse_http_request("hello world\r\n"));
    EXPECT_FALSE(parse_http_request("get / HTTP/1.1\r\n"));
}

}  // namespace
}  // namespace engine::native
