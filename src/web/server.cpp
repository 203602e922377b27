#include "web/server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "drakrun/status.hpp"
#include "drakrun/task_options.hpp"
#include "engine/sample_info.hpp"
#include "karton/redis.hpp"
#include "karton/resource.hpp"
#include "karton/task.hpp"
#include "s3/client.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/ids.hpp"
#include "util/logging.hpp"
#include "web/errors.hpp"
#include "web/request.hpp"
#include "web/upload.hpp"
#include "web/zip_stream.hpp"

namespace drak_web {

namespace {

constexpr std::size_t kStreamChunk = 1024 * 1024;
constexpr const char* kJson = "application/json";

// Pool hands out objects that are not thread-safe (Redis connections, S3 clients, producers)
// one thread at a time, creating them on demand.
template <class T>
class Pool {
  public:
    using Factory = std::function<std::unique_ptr<T>()>;
    explicit Pool(Factory f) : factory_(std::move(f)) {}

    class Lease {
      public:
        Lease(Pool& p, std::unique_ptr<T> obj) : pool_(p), obj_(std::move(obj)) {}
        ~Lease() {
            if (obj_ && !discard_) pool_.put(std::move(obj_));
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        T& operator*() { return *obj_; }
        T* operator->() { return obj_.get(); }
        // discard drops the object instead of returning it (after a failure).
        void discard() { discard_ = true; }

      private:
        Pool& pool_;
        std::unique_ptr<T> obj_;
        bool discard_ = false;
    };

    Lease acquire() {
        {
            std::lock_guard lock(mu_);
            if (!free_.empty()) {
                auto obj = std::move(free_.back());
                free_.pop_back();
                return Lease(*this, std::move(obj));
            }
        }
        return Lease(*this, factory_());
    }

  private:
    void put(std::unique_ptr<T> obj) {
        std::lock_guard lock(mu_);
        if (free_.size() < 32) free_.push_back(std::move(obj));
    }
    Factory factory_;
    std::mutex mu_;
    std::vector<std::unique_ptr<T>> free_;
};

[[noreturn]] void fail(ErrorKind kind, const std::string& message) {
    throw ApiError(kind, message);
}

std::string dump_json(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// constant_time_equal compares secrets without an early exit.
bool constant_time_equal(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i]) ^
                static_cast<unsigned char>(b.empty() ? 0 : b[i % b.size()]);
    return diff == 0;
}

std::string download_name(std::string_view uid, std::string_view suffix) {
    std::string out;
    for (char c : uid) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (ok) out.push_back(c);
    }
    if (out.size() > 80) out.resize(80);
    return out + "-" + std::string(suffix);
}

// ObjectRef: a validated key in the artifacts bucket.
struct ObjectRef {
    std::string key;
    std::string content_type;
    std::string attachment;  // non-empty: Content-Disposition attachment file name
};

}  // namespace

struct WebServer::Impl {
    WebConfig config;
    httplib::Server http;
    std::thread thread;
    std::atomic<int> bound_port{0};
    std::shared_ptr<spdlog::logger> log = util::logger("drak-web");
    Pool<karton::Connection> redis_pool;
    Pool<s3::S3Client> s3_pool;
    Pool<karton::Producer> producer_pool;
    std::filesystem::path spool_dir;
    std::unique_ptr<util::TempDir> owned_spool;

    explicit Impl(WebConfig c)
        : config(std::move(c)),
          redis_pool([this] {
              auto opts = config.service.redis;
              opts.client_name = config.web.identity;
              opts.backoff.max_attempts = 2;
              return std::make_unique<karton::Connection>(opts);
          }),
          s3_pool([this] { return std::make_unique<s3::S3Client>(config.service.s3); }),
          producer_pool([this] {
              return std::make_unique<karton::Producer>(config.service, config.web.identity);
          }) {
        if (config.web.upload_dir.empty()) {
            owned_spool = std::make_unique<util::TempDir>("drak-web-uploads");
            spool_dir = owned_spool->path();
        } else {
            spool_dir = config.web.upload_dir;
            std::filesystem::create_directories(spool_dir);
        }
        setup();
    }

    const std::string& bucket() const { return config.web.artifacts_bucket; }

    // ---- plumbing -------------------------------------------------------------------------

    static void write_error(httplib::Response& res, ErrorKind kind, const std::string& msg) {
        res.status = http_status(kind);
        res.set_content(error_body(kind, msg), kJson);
    }

    void add_common_headers(httplib::Response& res) const {
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("Referrer-Policy", "no-referrer");
        if (!config.web.cors_origin.empty()) {
            res.set_header("Access-Control-Allow-Origin", config.web.cors_origin);
            res.set_header("Access-Control-Allow-Headers", "Range, Authorization, Content-Type");
            res.set_header("Access-Control-Expose-Headers",
                           "Content-Range, Content-Length, Accept-Ranges");
            if (config.web.cors_origin != "*") res.set_header("Vary", "Origin");
        }
    }

    void check_auth(const httplib::Request& req) const {
        const auto& token = config.web.api_token;
        if (token.empty()) return;
        std::string given;
        auto auth = req.get_header_value("Authorization");
        if (auth.rfind("Bearer ", 0) == 0) {
            given = auth.substr(7);
        } else if (req.method == "GET" && req.has_param("access_token")) {
            // Plain links (downloads) cannot carry a header.
            given = req.get_param_value("access_token");
        }
        if (given.empty() || !constant_time_equal(given, token))
            fail(ErrorKind::Unauthorized, "missing or invalid bearer token");
    }

    using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

    // api wraps a handler: auth, the JSON error table, storage failures as 502.
    httplib::Server::Handler api(Handler h) {
        return [this, h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
            // Range is resolved by our handlers; stop httplib from applying it a second time
            // (the request object is a non-const local of the server loop).
            const_cast<httplib::Request&>(req).ranges.clear();
            add_common_headers(res);
            res.set_header("Cache-Control", "no-store");
            try {
                check_auth(req);
                h(req, res);
            } catch (const ApiError& e) {
                write_error(res, e.kind(), e.what());
            } catch (const s3::S3Error& e) {
                log->warn("{} {}: storage error: {}", req.method, req.path, e.what());
                write_error(res, ErrorKind::StorageUnavailable, "object storage request failed");
            } catch (const karton::RedisError& e) {
                log->warn("{} {}: redis error: {}", req.method, req.path, e.what());
                write_error(res, ErrorKind::StorageUnavailable, "redis request failed");
            } catch (const std::exception& e) {
                log->error("{} {}: {}", req.method, req.path, e.what());
                write_error(res, ErrorKind::Internal, "internal error");
            }
        };
    }

    static std::string uid_param(const httplib::Request& req, std::size_t i = 1) {
        std::string uid = req.matches[static_cast<int>(i)];
        if (!drakrun::is_valid_analysis_uid(uid))
            fail(ErrorKind::InvalidUid, "not an analysis uid");
        return uid;
    }

    // ---- object streaming -----------------------------------------------------------------

    s3::ObjectInfo head_or_404(const std::string& key) {
        auto s3c = s3_pool.acquire();
        auto info = s3c->head_object(bucket(), key);
        if (!info) fail(ErrorKind::NotFound, "Object not found");
        return *info;
    }

    // stream_object answers with the object (or the requested Range of it, as one 206),
    // reading S3 in kStreamChunk ranged GETs as the client consumes it.
    void stream_object(const httplib::Request& req, httplib::Response& res, const ObjectRef& ref,
                       bool ranges) {
        auto info = head_or_404(ref.key);
        std::uint64_t size = info.size;
        ByteRange span{0, size == 0 ? 0 : size - 1};
        res.set_header("Accept-Ranges", ranges ? "bytes" : "none");
        if (ranges && req.has_header("Range")) {
            auto rr = parse_range(req.get_header_value("Range"), size);
            if (rr.kind == RangeRequest::Kind::Unsatisfiable) {
                res.set_header("Content-Range", "bytes */" + std::to_string(size));
                fail(ErrorKind::RangeNotSatisfiable, rr.reason);
            }
            if (rr.kind == RangeRequest::Kind::Partial) {
                span = rr.range;
                res.status = 206;
                res.set_header("Content-Range", "bytes " + std::to_string(span.first) + "-" +
                                                    std::to_string(span.last) + "/" +
                                                    std::to_string(size));
            }
        }
        if (!ref.attachment.empty())
            res.set_header("Content-Disposition",
                           "attachment; filename=\"" + ref.attachment + "\"");
        if (size == 0) {
            res.set_content("", ref.content_type);
            return;
        }
        std::uint64_t first = span.first;
        std::uint64_t length = span.length();
        std::string key = ref.key;
        res.set_content_provider(
            static_cast<std::size_t>(length), ref.content_type,
            [this, key, first, length](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                if (offset >= length) return true;
                std::uint64_t from = first + offset;
                std::uint64_t to =
                    from + std::min<std::uint64_t>(kStreamChunk, length - offset) - 1;
                try {
                    auto s3c = s3_pool.acquire();
                    std::string piece = s3c->get_object_range(bucket(), key, from, to);
                    if (piece.empty()) return false;
                    return sink.write(piece.data(), piece.size());
                } catch (const std::exception& e) {
                    log->warn("streaming {} stopped: {}", key, e.what());
                    return false;
                }
            });
    }

    // ---- routes ---------------------------------------------------------------------------

    void setup() {
        auto& s = http;
        s.new_task_queue = [n = config.web.threads] {
            return new httplib::ThreadPool(static_cast<std::size_t>(n));
        };
        s.set_payload_max_length(
            static_cast<std::size_t>(upload_payload_limit(config.web.upload_max_size)));
        s.set_read_timeout(60, 0);
        s.set_write_timeout(60, 0);

        s.Options(R"(.*)", [this](const httplib::Request&, httplib::Response& res) {
            add_common_headers(res);
            if (!config.web.cors_origin.empty())
                res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            res.status = 204;
        });

        s.Post("/upload", [this](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
            api([this, &reader](const httplib::Request& rq, httplib::Response& rs) {
                handle_upload(rq, rs, reader);
            })(req, res);
        });

        s.Get("/list", api([this](const httplib::Request&, httplib::Response& res) {
                  auto conn = redis_pool.acquire();
                  drakrun::StatusStore store(*conn);
                  nlohmann::ordered_json out = nlohmann::ordered_json::array();
                  for (const auto& st : store.recent()) {
                      nlohmann::ordered_json e;
                      e["id"] = st.uid;
                      e["status"] = drakrun::to_string(st.state);
                      e["meta"] = st.metadata;
                      out.push_back(std::move(e));
                  }
                  res.set_content(dump_json(out), kJson);
              }));

        s.Get(R"(/status/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  handle_status(uid_param(req), res);
              }));

        s.Get(R"(/metadata/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  stream_object(req, res, {uid_param(req) + "/metadata.json", kJson, ""}, false);
              }));
        s.Get(R"(/report/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  stream_object(req, res, {uid_param(req) + "/report.json", kJson, ""}, false);
              }));

        s.Get(R"(/logs/([^/]+))", api([this](const httplib::Request& req, httplib::Response& res) {
                  auto uid = uid_param(req);
                  auto s3c = s3_pool.acquire();
                  nlohmann::ordered_json out = nlohmann::ordered_json::array();
                  for (const auto& o : s3c->list_objects_v2(bucket(), uid + "/")) {
                      std::string_view rest = std::string_view(o.key).substr(uid.size() + 1);
                      if (rest.find('/') != std::string_view::npos) continue;
                      if (rest.size() > 4 && rest.substr(rest.size() - 4) == ".log")
                          out.push_back(o.key);
                  }
                  res.set_content(dump_json(out), kJson);
              }));

        s.Get(R"(/logs/([^/]+)/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  auto uid = uid_param(req);
                  std::string type = req.matches[2];
                  if (type.size() > 4 && type.substr(type.size() - 4) == ".log")
                      type.resize(type.size() - 4);
                  if (!is_safe_artifact_name(type)) fail(ErrorKind::BadRequest, "invalid log type");
                  stream_object(
                      req, res,
                      {uid + "/" + type + ".log", "text/plain; charset=utf-8",
                       req.has_param("download") ? download_name(uid, type + ".log") : ""},
                      true);
              }));

        s.Get(R"(/logindex/([^/]+)/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  auto uid = uid_param(req);
                  std::string type = req.matches[2];
                  if (!is_safe_artifact_name(type)) fail(ErrorKind::BadRequest, "invalid log type");
                  // The worker stores index/<name>.log.json (DS 0.19a1); DS 0.18.2 stored
                  // index/<name>.log. The route takes the bare name, so both resolve (§8.3).
                  std::string key = uid + "/index/" + type + ".log.json";
                  {
                      auto s3c = s3_pool.acquire();
                      if (!s3c->head_object(bucket(), key)) key = uid + "/index/" + type + ".log";
                  }
                  stream_object(req, res, {key, kJson, ""}, false);
              }));

        s.Get(R"(/processed/([^/]+)/apicall/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  auto uid = uid_param(req);
                  std::string pid = req.matches[2];
                  if (!is_pid_text(pid)) fail(ErrorKind::BadRequest, "invalid pid");
                  stream_object(req, res, {uid + "/apicall/" + pid + ".json", kJson, ""}, true);
              }));
        s.Get(R"(/processed/([^/]+)/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  auto uid = uid_param(req);
                  std::string which = req.matches[2];
                  if (!is_safe_artifact_name(which))
                      fail(ErrorKind::BadRequest, "invalid processed file name");
                  stream_object(req, res, {uid + "/" + which + ".json", kJson, ""}, true);
              }));

        s.Get(R"(/dumps/([^/]+))", api([this](const httplib::Request& req, httplib::Response& res) {
                  auto uid = uid_param(req);
                  stream_object(
                      req, res,
                      {uid + "/dumps.zip", "application/zip", download_name(uid, "dumps.zip")},
                      true);
              }));
        s.Get(R"(/graph/([^/]+))", api([this](const httplib::Request& req, httplib::Response& res) {
                  stream_object(req, res,
                                {uid_param(req) + "/graph.dot", "text/plain; charset=utf-8", ""},
                                true);
              }));
        s.Get(R"(/pcap_dump/([^/]+))",
              api([this](const httplib::Request& req, httplib::Response& res) {
                  handle_pcap(uid_param(req), res);
              }));

        // Unknown API-looking paths are JSON 404s, everything else is the single-page UI.
        s.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
            add_common_headers(res);
            static const char* kApiPrefixes[] = {
                "/upload",    "/list",  "/status", "/metadata",  "/report", "/logs",   "/logindex",
                "/processed", "/dumps", "/graph",  "/pcap_dump", "/api/",   "/assets/"};
            for (const char* p : kApiPrefixes) {
                if (req.path.rfind(p, 0) == 0) {
                    write_error(res, ErrorKind::NotFound, "no such route");
                    return;
                }
            }
            serve_index(res);
        });
        s.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
            if (!res.body.empty()) return;
            add_common_headers(res);
            ErrorKind kind = res.status == 404   ? ErrorKind::NotFound
                             : res.status == 413 ? ErrorKind::PayloadTooLarge
                             : res.status == 416 ? ErrorKind::RangeNotSatisfiable
                             : res.status == 405 ? ErrorKind::MethodNotAllowed
                             : res.status < 500  ? ErrorKind::BadRequest
                                                 : ErrorKind::Internal;
            res.set_content(error_body(kind, std::string(kind_name(kind))), kJson);
        });

        if (!config.web.static_dir.empty()) {
            if (std::filesystem::is_directory(config.web.static_dir / "assets"))
                s.set_mount_point("/assets", (config.web.static_dir / "assets").string());
            s.set_file_request_handler([this](const httplib::Request&, httplib::Response& res) {
                add_common_headers(res);
                res.set_header("Cache-Control", "public, max-age=31536000, immutable");
            });
        }
    }

    void serve_index(httplib::Response& res) {
        auto index = config.web.static_dir / "index.html";
        if (config.web.static_dir.empty() || !std::filesystem::is_regular_file(index)) {
            write_error(res, ErrorKind::NotFound,
                        "the web UI is not built (run npm run build in web/)");
            return;
        }
        res.set_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'");
        res.set_header("Cache-Control", "no-cache");
        res.set_content(util::read_file(index), "text/html; charset=utf-8");
    }

    // ---- /status --------------------------------------------------------------------------

    void handle_status(const std::string& uid, httplib::Response& res) {
        auto conn = redis_pool.acquire();
        drakrun::StatusStore store(*conn);
        std::string status = "done";
        std::string detail;
        if (auto rec = store.get(uid)) {
            detail = drakrun::to_string(rec->state);
            if (rec->state == drakrun::AnalysisState::Pending ||
                rec->state == drakrun::AnalysisState::Started)
                status = "pending";
        } else if (auto root = root_of_task_uid(uid)) {
            // No status record (older analyses, dropped records): fall back to the Karton
            // tasks of this root only — never a scan of every task document.
            bool pending = false;
            std::vector<std::string> keys;
            conn->scan("karton.task:{" + *root + "}:*", [&](const std::string& key) {
                if (keys.size() < 10000) keys.push_back(key);
            });
            for (const auto& key : keys) {
                auto text = conn->command({"GET", key}).as_optional_string();
                if (!text) continue;
                auto j = nlohmann::json::parse(*text, nullptr, false);
                if (j.is_object() && j.contains("status") && j["status"] != "Finished") {
                    pending = true;
                    break;
                }
            }
            if (pending) status = "pending";
        }
        auto vm = conn->command({"GET", "drakvnc:" + uid}).as_optional_string();
        nlohmann::ordered_json out;
        out["status"] = status;
        out["vm_id"] = vm ? nlohmann::ordered_json(*vm) : nlohmann::ordered_json(nullptr);
        if (!detail.empty()) out["state"] = detail;
        res.set_content(dump_json(out), kJson);
    }

    // ---- /pcap_dump -----------------------------------------------------------------------

    void handle_pcap(const std::string& uid, httplib::Response& res) {
        std::vector<ZipEntryPlan> plan;
        std::vector<std::string> keys;
        {
            auto s3c = s3_pool.acquire();
            std::optional<s3::ObjectInfo> pcap;
            std::string pcap_key;
            for (const char* name : {"dump.pcap", "dumps.pcap"}) {
                pcap_key = uid + "/" + name;
                pcap = s3c->head_object(bucket(), pcap_key);
                if (pcap) break;
            }
            if (!pcap) fail(ErrorKind::NotFound, "No network traffic available");
            plan.push_back({"dump.pcap", pcap->size});
            keys.push_back(pcap_key);
            auto keys_key = uid + "/wireshark_key_file.txt";
            if (auto k = s3c->head_object(bucket(), keys_key)) {
                plan.push_back({"dump.keys", k->size});
                keys.push_back(keys_key);
            }
        }
        for (const auto& p : plan)
            if (p.size > kZipMaxMember) fail(ErrorKind::Internal, "capture too large to pack");
        std::uint64_t total = zip_size(plan);
        res.set_header("Content-Disposition",
                       "attachment; filename=\"" + download_name(uid, "pcap.zip") + "\"");
        res.set_content_provider(
            static_cast<std::size_t>(total), "application/zip",
            [this, plan, keys](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                if (offset != 0) return false;  // written in one pass below
                try {
                    auto out = [&](std::string_view b) { return sink.write(b.data(), b.size()); };
                    auto fill = [&](std::size_t i,
                                    const std::function<bool(std::string_view)>& emit) {
                        std::uint64_t size = plan[i].size;
                        for (std::uint64_t at = 0; at < size; at += kStreamChunk) {
                            std::uint64_t last =
                                std::min<std::uint64_t>(at + kStreamChunk, size) - 1;
                            auto s3c = s3_pool.acquire();
                            auto piece = s3c->get_object_range(bucket(), keys[i], at, last);
                            if (piece.size() != last - at + 1 || !emit(piece)) return false;
                        }
                        return true;
                    };
                    return write_zip(plan, out, fill);
                } catch (const std::exception& e) {
                    log->warn("pcap zip stopped: {}", e.what());
                    return false;
                }
            });
    }

    // ---- /upload --------------------------------------------------------------------------

    void handle_upload(const httplib::Request& req, httplib::Response& res,
                       const httplib::ContentReader& reader) {
        util::TempDir spool("upload", spool_dir);
        auto sample_path = spool.path() / "sample";
        const UploadForm form = read_upload(req, reader, sample_path, config.web.upload_max_size);
        const UploadName* valid = &form.name;
        const auto& timeout = form.timeout;
        const auto& plugins = form.plugins;
        const std::string& start_command = form.start_command;
        const std::uint64_t file_bytes = form.file_bytes;

        std::string platform = engine::platform_of(engine::inspect_sample_file(sample_path));
        if (platform.empty()) platform = "win32";

        auto& ids = util::random_ids();
        karton::json::Object headers{
            {"type", "sample"}, {"stage", "recognized"}, {"platform", platform}};
        if (!valid->extension.empty()) headers.set("extension", valid->extension);
        karton::Task task = karton::new_task(std::move(headers), ids, util::system_clock());
        task.payload.set("sample", task.attach_resource(
                                       karton::resource_from_file(valid->full, sample_path, ids)));
        task.payload.set("override_uid", task.uid);
        task.payload.set("file_name", valid->base);
        if (timeout) task.payload.set("timeout", *timeout);
        if (!start_command.empty()) task.payload.set("start_command", start_command);
        if (plugins) {
            karton::json::Array list;
            for (auto& p : *plugins) list.emplace_back(p);
            task.payload.set("plugins", std::move(list));
        }
        {
            auto producer = producer_pool.acquire();
            try {
                producer->send_task(task);
            } catch (...) {
                producer.discard();
                throw;
            }
        }
        {
            auto conn = redis_pool.acquire();
            drakrun::StatusStore(*conn).create_pending(task.uid);
        }
        log->info("upload {} ({} bytes, {}) -> task {}", valid->full, file_bytes, platform,
                  task.uid);
        nlohmann::ordered_json out;
        out["task_uid"] = task.uid;
        res.set_content(dump_json(out), kJson);
    }
};

WebServer::WebServer(WebConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

WebServer::~WebServer() { stop(); }

namespace {
int bind_or_throw(httplib::Server& http, const WebSettings& w) {
    int port = w.port;
    if (port == 0) {
        port = http.bind_to_any_port(w.host);
    } else if (!http.bind_to_port(w.host, port)) {
        port = -1;
    }
    if (port <= 0)
        throw util::SystemError("cannot listen on " + w.host + ":" + std::to_string(w.port), errno);
    return port;
}
}  // namespace

void WebServer::start() {
    impl_->bound_port = bind_or_throw(impl_->http, impl_->config.web);
    impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
    for (int i = 0; i < 500 && !impl_->http.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

void WebServer::run() {
    impl_->bound_port = bind_or_throw(impl_->http, impl_->config.web);
    impl_->log->info("listening on http://{}:{}", impl_->config.web.host, impl_->bound_port.load());
    impl_->http.listen_after_bind();
}

void WebServer::stop() {
    if (!impl_) return;
    impl_->http.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

int WebServer::port() const { return impl_->bound_port; }

}  // namespace drak_web
