// s3/error.hpp — S3Error, the one exception type of the s3 library: HTTP status, S3 <Code> and
// <Message>, bucket, key and a hint telling the reader what to check (spec §13; style anchor
// §1.1 "the protocol layer decides what counts as an error").
#pragma once

#include <string>

#include "util/error.hpp"

namespace s3 {

// S3Error describes a failed S3 operation. status() is 0 when no HTTP answer arrived (network
// failure, bad local input); code() is then "NetworkError" or "InvalidInput".
class S3Error : public util::Error {
  public:
    struct Details {
        std::string operation{};  // "GetObject", "PutObject", ...
        long status = 0;
        std::string code{};
        std::string message{};
        std::string bucket{};
        std::string key{};
        std::string hint{};
        std::string request_id{};
    };

    explicit S3Error(Details d);

    long status() const { return d_.status; }
    const std::string& code() const { return d_.code; }
    const std::string& message() const { return d_.message; }
    const std::string& bucket() const { return d_.bucket; }
    const std::string& key() const { return d_.key; }
    const std::string& hint() const { return d_.hint; }
    const std::string& operation() const { return d_.operation; }

    // is_network_error: no HTTP answer arrived (connection refused, timeout, reset).
    bool is_network_error() const { return d_.code == kNetworkError; }

    static constexpr const char* kNetworkError = "NetworkError";
    static constexpr const char* kInvalidInput = "InvalidInput";

  private:
    static std::string render(const Details& d);
    Details d_;
};

// hint_for returns the advice attached to an error with this HTTP status and S3 code
// (403 -> check keys and clock, 404 NoSuchBucket -> create the bucket, ...); may be empty.
std::string hint_for(long status, const std::string& code);

}  // namespace s3
