// s3/sigv4.hpp — AWS Signature Version 4 for S3 as a pure function (no clock, no I/O), plus
// the URI-encoding rules it relies on. Implements karton-protocol.md §13 ("Signing") and is
// checked byte for byte against shared/spec/s3-vectors/sigv4.jsonl.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace s3 {

// SigningInput is everything SigV4 needs; fill it with designated initializers.
struct SigningInput {
    std::string method{};  // "GET", "PUT", ... (upper case)
    // Full request URL, "http(s)://host[:port]/path?query". The path must already be
    // percent-encoded (S3 paths are signed as sent, never double encoded); query keys and values
    // may be encoded or not, they are decoded and re-encoded canonically.
    std::string url{};
    std::string region = "us-east-1";
    std::string service = "s3";
    std::string access_key{};
    std::string secret_key{};
    std::string amz_date{};      // "YYYYMMDDTHHMMSSZ" (UTC)
    std::string payload_hash{};  // lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
    // Extra headers to sign and send (Content-Type, Range, Content-MD5, ...). Names are matched
    // case-insensitively. Host, X-Amz-Date and X-Amz-Content-SHA256 are added by sign_v4.
    std::map<std::string, std::string> headers{};
};

// SignedRequest is the result of sign_v4.
struct SignedRequest {
    std::string canonical_request;
    std::string string_to_sign;
    std::string authorization;  // value of the Authorization header
    // Headers to send with the request: the input headers plus X-Amz-Date,
    // X-Amz-Content-SHA256 and Authorization. Host is not included (the HTTP library derives
    // the same value from the URL).
    std::map<std::string, std::string> headers;
};

// sign_v4 computes the SigV4 signature of a request. Pure and deterministic.
// Throws util::InputError when the URL cannot be parsed or amz_date is malformed.
SignedRequest sign_v4(const SigningInput& input);

// uri_encode percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (upper-case hex), and '/'
// too when keep_slash is true (object keys in paths).
std::string uri_encode(std::string_view s, bool keep_slash = false);

// uri_decode reverses percent-encoding ('+' stays '+' unless plus_as_space). Malformed escapes
// are kept literally.
std::string uri_decode(std::string_view s, bool plus_as_space = false);

// amz_date formats Unix time (seconds) as "YYYYMMDDTHHMMSSZ" in UTC.
std::string amz_date(double unix_seconds);

// canonical_host returns the Host header value for an URL's authority: the port is dropped
// when it is the scheme default (80 for http, 443 for https). Throws util::InputError.
std::string canonical_host(std::string_view url);

}  // namespace s3
