// web/settings.hpp — drak-web configuration: the [web] section of /etc/drakrun/config.ini
// (listen, api_token, upload_max_size, cors_origin; data/config.ini documents them) plus the
// [redis]/[s3] connection settings from the same file (spec karton-protocol §1.6).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "karton/config.hpp"
#include "karton/producer.hpp"

namespace drak_web {

// WebSettings: everything the server needs besides connections.
struct WebSettings {
    static constexpr std::uint64_t kDefaultUploadMax = 100ull * 1024 * 1024;

    std::string host = "127.0.0.1";  // never 0.0.0.0 unless configured
    int port = 6300;                 // 0: pick a free port (tests)
    std::string api_token;           // empty: no authentication
    std::uint64_t upload_max_size = kDefaultUploadMax;
    std::string cors_origin;  // empty: no CORS headers at all; never "*" by default
    std::string artifacts_bucket = "drakrun";
    std::filesystem::path static_dir;   // web/dist; empty: API only
    std::filesystem::path upload_dir;   // where uploads are spooled; empty: system temp
    std::string identity = "drak-web";  // Karton producer identity
    int threads = 8;                    // request worker threads
};

// WebConfig: the resolved configuration of one drak-web process.
struct WebConfig {
    WebSettings web;
    karton::ServiceSettings service;
};

// parse_listen splits "host:port" / "[v6]:port" / "port"; throws util::InputError.
void parse_listen(std::string_view text, std::string& host, int& port);

// web_config_from builds the configuration from a loaded config.ini ([web], [redis], [s3],
// [drakrun] artifacts_bucket) and environment. Throws karton::ConfigError / util::InputError
// naming the bad option.
WebConfig web_config_from(const karton::Config& cfg, const karton::Environment& env);

}  // namespace drak_web
