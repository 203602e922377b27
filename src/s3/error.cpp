#include "s3/error.hpp"

#include <utility>

namespace s3 {

S3Error::S3Error(Details d) : util::Error(render(d)), d_(std::move(d)) {}

std::string S3Error::render(const Details& d) {
    std::string out = "S3 " + (d.operation.empty() ? std::string("request") : d.operation);
    if (!d.bucket.empty()) {
        out += " " + d.bucket;
        if (!d.key.empty()) {
            out += "/" + d.key;
        }
    }
    out += " failed: ";
    if (d.status != 0) {
        out += "HTTP " + std::to_string(d.status) + " ";
    }
    out += d.code.empty() ? std::string("UnknownError") : d.code;
    if (!d.message.empty()) {
        out += ": " + d.message;
    }
    if (!d.request_id.empty()) {
        out += " (request id " + d.request_id + ")";
    }
    if (!d.hint.empty()) {
        out += " — " + d.hint;
    }
    return out;
}

std::string hint_for(long status, const std::string& code) {
    if (code == S3Error::kNetworkError) {
        return "check that the S3 endpoint address is right and the server is running";
    }
    if (code == "SignatureDoesNotMatch") {
        return "check the secret key (and that no proxy rewrites the request)";
    }
    if (code == "InvalidAccessKeyId") {
        return "check the access key";
    }
    if (code == "RequestTimeTooSkewed") {
        return "check this machine's clock";
    }
    if (code == "NoSuchBucket") {
        return "the bucket does not exist: create it (karton-system --setup-bucket) or fix the "
               "bucket name";
    }
    if (code == "NoSuchKey") {
        return "the object does not exist (already garbage-collected?)";
    }
    if (code == "AuthorizationHeaderMalformed" || (status == 400 && code == "InvalidRequest")) {
        return "check the configured region";
    }
    if (status == 403) {
        return "access denied: check the access key, the secret key and the system clock";
    }
    if (status == 404) {
        return "not found: check the bucket and key names";
    }
    if (status >= 500) {
        return "the S3 server failed; retry later";
    }
    return {};
}

}  // namespace s3
