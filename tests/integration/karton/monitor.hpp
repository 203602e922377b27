// monitor.hpp (test helper) — records the commands a real redis-server receives via MONITOR,
// grouped by client, to compare command sequences with redis-flow.jsonl.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "karton/redis.hpp"
#include "support/redis_server.hpp"

namespace karton_test {

struct MonitoredCommand {
    std::string addr;
    std::vector<std::string> argv;
};

// parse_monitor_line parses `<ts> [<db> <addr>] "ARG" "ARG" ...` with MONITOR's escapes.
inline MonitoredCommand parse_monitor_line(const std::string& line) {
    MonitoredCommand out;
    auto lb = line.find('[');
    auto rb = line.find(']', lb);
    if (lb == std::string::npos || rb == std::string::npos) {
        throw std::runtime_error("bad MONITOR line: " + line);
    }
    std::string inside = line.substr(lb + 1, rb - lb - 1);
    out.addr = inside.substr(inside.find(' ') + 1);
    size_t i = rb + 1;
    while (i < line.size()) {
        if (line[i] != '"') {
            ++i;
            continue;
        }
        ++i;
        std::string arg;
        while (i < line.size() && line[i] != '"') {
            if (line[i] == '\\' && i + 1 < line.size()) {
                char c = line[i + 1];
                i += 2;
                switch (c) {
                    case 'n':
                        arg.push_back('\n');
                        break;
                    case 'r':
                        arg.push_back('\r');
                        break;
                    case 't':
                        arg.push_back('\t');
                        break;
                    case 'a':
                        arg.push_back('\a');
                        break;
                    case 'b':
                        arg.push_back('\b');
                        break;
                    case 'x':
                        arg.push_back(static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16)));
                        i += 2;
                        break;
                    default:
                        arg.push_back(c);
                }
            } else {
                arg.push_back(line[i++]);
            }
        }
        ++i;
        out.argv.push_back(std::move(arg));
    }
    return out;
}

// Monitor opens a MONITOR connection; drain() returns everything seen until a sentinel
// command (sent by drain itself on a second connection) arrives.
class Monitor {
  public:
    explicit Monitor(const test_support::RedisServer& server) : server_(server) {
        karton::RedisOptions o;
        o.host = server.host();
        o.port = server.port();
        o.socket_timeout = std::chrono::seconds(10);
        conn_ = std::make_unique<karton::Connection>(o);
        conn_->command({"MONITOR"});
    }

    std::vector<MonitoredCommand> drain() {
        karton::RedisOptions o;
        o.host = server_.host();
        o.port = server_.port();
        karton::Connection c(o);
        const std::string sentinel = "monitor-sentinel-" + std::to_string(++n_);
        c.command({"ECHO", sentinel});
        std::vector<MonitoredCommand> out;
        for (;;) {
            auto r = conn_->receive();
            auto cmd = parse_monitor_line(r.as_string());
            if (cmd.argv.size() == 2 && cmd.argv[0] == "ECHO" && cmd.argv[1] == sentinel) {
                break;
            }
            out.push_back(std::move(cmd));
        }
        return out;
    }

    // of_client returns the commands of the connection that issued CLIENT SETNAME `name`
    // (including that command), in order.
    static std::vector<std::vector<std::string>> of_client(const std::vector<MonitoredCommand>& all,
                                                           const std::string& name) {
        std::vector<std::string> addrs;
        for (const auto& c : all) {
            if (c.argv.size() == 3 && c.argv[0] == "CLIENT" && c.argv[2] == name) {
                addrs.push_back(c.addr);
            }
        }
        std::vector<std::vector<std::string>> out;
        for (const auto& c : all) {
            for (const auto& a : addrs) {
                if (c.addr == a) {
                    out.push_back(c.argv);
                    break;
                }
            }
        }
        return out;
    }

  private:
    const test_support::RedisServer& server_;
    std::unique_ptr<karton::Connection> conn_;
    int n_ = 0;
};

}  // namespace karton_test
