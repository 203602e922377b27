// web/server.hpp — WebServer: the drak-web HTTP server. Routes of spec drakvuf-output.md §10
// (/upload, /list, /status, /metadata, /logs, /logindex, /processed, /dumps, /pcap_dump,
// /graph) plus /report, at the original paths; the
// React UI from web/dist for every other GET. Objects stream from S3 in 1 MiB ranged reads;
// Range requests get one proper 206. Errors are JSON (web/errors.hpp).
//
//   drak_web::WebServer server(config);
//   server.start();            // binds (port 0 = free port) and serves on a background thread
//   int port = server.port();
//   server.stop();
#pragma once

#include <memory>

#include "web/settings.hpp"

namespace drak_web {

class WebServer {
  public:
    // Builds the route table. Connections to Redis and S3 are opened lazily per worker thread.
    explicit WebServer(WebConfig config);
    ~WebServer();
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    // start binds host:port (throws util::SystemError when it cannot) and serves on a
    // background thread until stop().
    void start();
    // run binds and serves on the calling thread until stop() (from another thread or a
    // signal handler thread).
    void run();
    // stop ends serving and joins the background thread; idempotent.
    void stop();
    // port is the bound port (after start/run bound it).
    int port() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace drak_web
