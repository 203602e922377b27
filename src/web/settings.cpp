#include "web/settings.hpp"

#include <charconv>

#include "util/error.hpp"
#include "util/logging.hpp"

namespace drak_web {

void parse_listen(std::string_view text, std::string& host, int& port) {
    std::string_view port_text = text;
    std::string h = "127.0.0.1";
    if (!text.empty() && text.front() == '[') {
        auto close = text.find("]:");
        if (close == std::string_view::npos)
            throw util::InputError("[web] listen: expected [address]:port, got '" +
                                   std::string(text) + "'");
        h = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
    } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        h = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    }
    int p = -1;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (h.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || p < 0 ||
        p > 65535)
        throw util::InputError("[web] listen: expected host:port, got '" + std::string(text) + "'");
    host = h;
    port = p;
}

WebConfig web_config_from(const karton::Config& cfg, const karton::Environment& env) {
    WebConfig out;
    auto& w = out.web;
    parse_listen(cfg.get_string("web", "listen", "127.0.0.1:6300"), w.host, w.port);
    w.api_token = cfg.get_string("web", "api_token", "");
    auto max = cfg.get_int("web", "upload_max_size", static_cast<std::int64_t>(w.upload_max_size));
    if (max < 1) throw util::InputError("[web] upload_max_size must be a positive byte count");
    w.upload_max_size = static_cast<std::uint64_t>(max);
    w.cors_origin = cfg.get_string("web", "cors_origin", "");
    if (w.cors_origin == "*")
        util::logger("drak-web")->warn("[web] cors_origin = * allows any web site to read the API");
    w.artifacts_bucket = cfg.get_string("drakrun", "artifacts_bucket", "drakrun");
    auto static_dir = cfg.get_string("web", "static_dir", "");
    if (!static_dir.empty()) w.static_dir = static_dir;
    auto upload_dir = cfg.get_string("web", "upload_dir", "");
    if (!upload_dir.empty()) w.upload_dir = upload_dir;
    w.threads = static_cast<int>(cfg.get_int("web", "threads", 8));
    if (w.threads < 1 || w.threads > 256) throw util::InputError("[web] threads must be 1..256");

    auto rc = karton::redis_config(cfg);
    auto& r = out.service.redis;
    if (rc.url) {
        r.apply_url(*rc.url);
    } else {
        r.host = rc.host;
        r.port = rc.port;
        r.db = rc.db;
    }
    r.ssl = rc.ssl;
    if (rc.username) r.username = rc.username;
    if (rc.password) r.password = rc.password;
    r.socket_timeout = std::chrono::seconds(rc.socket_timeout.value_or(0));
    auto sc = karton::s3_config(cfg, env);
    out.service.s3.endpoint = sc.address;
    out.service.s3.access_key = sc.access_key.value_or("");
    out.service.s3.secret_key = sc.secret_key.value_or("");
    out.service.bucket = sc.bucket.value_or("karton");
    return out;
}

}  // namespace drak_web
