// support/s3_server.hpp — a real @20minutes/s3rver (tests/support/s3rver/start.js) on a free
// 127.0.0.1 port with its own temp directory and SigV4 credentials, for integration tests
// (house rule 15). Stopped (whole process group) by stop() or the destructor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "util/fs.hpp"

namespace test_support {

class S3Server {
  public:
    static constexpr std::chrono::seconds kStartTimeout{30};

    // Starts node (found on PATH) with DRAK_SOURCE_DIR/tests/support/s3rver/start.js and waits,
    // polling its stdout against kStartTimeout, for the port line. Throws std::runtime_error
    // when node is missing, the script fails or the deadline passes.
    S3Server(std::string access_key = "drak-test-access",
             std::string secret_key = "drak-test-secret/Key+1");
    ~S3Server();
    S3Server(const S3Server&) = delete;
    S3Server& operator=(const S3Server&) = delete;

    // endpoint is "http://127.0.0.1:<port>".
    std::string endpoint() const;
    int port() const { return port_; }
    const std::string& access_key() const { return access_key_; }
    const std::string& secret_key() const { return secret_key_; }

    // stop kills the server's process group and reaps it; idempotent. The data directory is
    // kept until destruction.
    void stop();
    // start launches a stopped server again on the same port with the same data (objects and
    // buckets survive); no-op while running. Throws as the constructor.
    void start();
    bool running() const { return pid_ > 0; }

  private:
    void launch();

    std::string access_key_;
    std::string secret_key_;
    std::unique_ptr<util::TempDir> dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace test_support
