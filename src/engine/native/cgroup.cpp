// engine/native/cgroup.cpp — cgroup v1/v2 groups for the sandbox (see cgroup.hpp).
#include "engine/native/cgroup.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/logging.hpp"

namespace engine::native {

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = "/sys/fs/cgroup";

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream f(p);
    if (!f) {
        util::throw_errno("open " + p.string());
    }
    f << text;
    f.flush();
    if (!f) {
        util::throw_errno("write " + p.string() + " <- " + text);
    }
}

std::string read_text(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// own_cgroup returns the engine's own path in hierarchy `controller` ("" for v2) from
// /proc/self/cgroup, e.g. "/process_api/abc".
std::string own_cgroup(const std::string& controller) {
    std::ifstream f("/proc/self/cgroup");
    std::string line;
    while (std::getline(f, line)) {
        auto c1 = line.find(':');
        auto c2 = line.find(':', c1 + 1);
        if (c1 == std::string::npos || c2 == std::string::npos) {
            continue;
        }
        std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1);
        std::string path = line.substr(c2 + 1);
        if (controller.empty()
                ? ctrls.empty()
                : ("," + ctrls + ",").find("," + controller + ",") != std::string::npos) {
            return path;
        }
    }
    return "/";
}

fs::path v1_parent(const std::string& controller) {
    fs::path base = kRoot / controller;
    std::string own = own_cgroup(controller);
    fs::path candidate = base / fs::path(own).relative_path();
    return fs::is_directory(candidate) ? candidate : base;
}

fs::path v2_parent() {
    std::string own = own_cgroup("");
    fs::path candidate = kRoot / fs::path(own).relative_path();
    // A v2 process may not live in an inner node with controllers enabled ("no internal
    // processes"), so create groups beside the engine's own group when it is not the root.
    if (own != "/" && fs::is_directory(candidate)) {
        return candidate.parent_path();
    }
    return kRoot;
}

const char* const kV1Controllers[] = {"memory", "cpu", "pids", "freezer"};

}  // namespace

int cgroup_version() {
    std::error_code ec;
    if (fs::exists(kRoot / "cgroup.controllers", ec)) {
        std::string ctrls = read_text(kRoot / "cgroup.controllers");
        if (ctrls.find("memory") != std::string::npos && ctrls.find("pids") != std::string::npos) {
            return 2;
        }
        return 0;
    }
    for (const char* c : kV1Controllers) {
        if (!fs::exists(kRoot / c / "cgroup.procs", ec)) {
            return 0;
        }
    }
    return 1;
}

std::vector<fs::path> cgroup_parent_dirs() {
    std::vector<fs::path> out;
    int v = cgroup_version();
    if (v == 2) {
        out.push_back(v2_parent());
    } else if (v == 1) {
        for (const char* c : kV1Controllers) {
            out.push_back(v1_parent(c));
        }
    }
    return out;
}

Cgroup::Cgroup(const std::string& name, const CgroupLimits& limits) : name_(name) {
    int v = cgroup_version();
    if (v == 0) {
        throw util::Error(
            "no usable cgroups: need cgroup v2 with memory+pids controllers or v1 memory, cpu, "
            "pids and freezer hierarchies under /sys/fs/cgroup");
    }
    v2_ = v == 2;
    try {
        if (v2_) {
            fs::path parent = v2_parent();
            // Enable the controllers for children (ignored if already enabled).
            try {
                write_text(parent / "cgroup.subtree_control", "+memory +pids +cpu");
            } catch (const util::Error&) {
            }
            fs::path dir = parent / name;
            fs::create_directory(dir);
            dirs_.push_back(dir);
            procs_dir_ = freezer_dir_ = memory_dir_ = dir;
            if (limits.memory_bytes) {
                write_text(dir / "memory.max", std::to_string(limits.memory_bytes));
                if (fs::exists(dir / "memory.swap.max")) {
                    write_text(dir / "memory.swap.max", "0");
                }
            }
            if (limits.max_pids) {
                write_text(dir / "pids.max", std::to_string(limits.max_pids));
            }
            if (limits.cpus > 0 && fs::exists(dir / "cpu.max")) {
                write_text(dir / "cpu.max",
                           std::to_string(static_cast<long>(std::lround(limits.cpus * 100000))) +
                               " 100000");
            }
        } else {
            for (const char* c : kV1Controllers) {
                fs::path dir = v1_parent(c) / name;
                fs::create_directory(dir);
                dirs_.push_back(dir);
                std::string ctl = c;
                if (ctl == "memory") {
                    memory_dir_ = dir;
                    if (limits.memory_bytes) {
                        write_text(dir / "memory.limit_in_bytes",
                                   std::to_string(limits.memory_bytes));
                        if (fs::exists(dir / "memory.memsw.limit_in_bytes")) {
                            write_text(dir / "memory.memsw.limit_in_bytes",
                                       std::to_string(limits.memory_bytes));
                        }
                    }
                } else if (ctl == "cpu") {
                    if (limits.cpus > 0) {
                        write_text(dir / "cpu.cfs_period_us", "100000");
                        write_text(dir / "cpu.cfs_quota_us",
                                   std::to_string(std::lround(limits.cpus * 100000)));
                    }
                } else if (ctl == "pids") {
                    procs_dir_ = dir;
                    if (limits.max_pids) {
                        write_text(dir / "pids.max", std::to_string(limits.max_pids));
                    }
                } else {
                    freezer_dir_ = dir;
                }
            }
        }
    } catch (const fs::filesystem_error& e) {
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            remove_cgroup_dir(*it);
        }
        throw util::Error(std::string("create cgroup ") + name + ": " + e.what());
    } catch (...) {
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            remove_cgroup_dir(*it);
        }
        throw;
    }
}

Cgroup::~Cgroup() {
    kill_all();
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
        if (!remove_cgroup_dir(*it)) {
            util::logger("engine")->error("could not remove cgroup {}", it->string());
        }
    }
}

void Cgroup::add(pid_t pid) const {
    for (const auto& d : dirs_) {
        write_text(d / "cgroup.procs", std::to_string(pid));
    }
}

std::vector<pid_t> Cgroup::pids() const {
    std::vector<pid_t> out;
    std::ifstream f(procs_dir_ / "cgroup.procs");
    long p = 0;
    while (f >> p) {
        out.push_back(static_cast<pid_t>(p));
    }
    return out;
}

void Cgroup::freeze() const {
    try {
        if (v2_) {
            write_text(freezer_dir_ / "cgroup.freeze", "1");
        } else {
            write_text(freezer_dir_ / "freezer.state", "FROZEN");
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (std::chrono::steady_clock::now() < deadline) {
            std::string state = v2_ ? read_text(freezer_dir_ / "cgroup.events")
                                    : read_text(freezer_dir_ / "freezer.state");
            if ((v2_ && state.find("frozen 1") != std::string::npos) ||
                (!v2_ && state.rfind("FROZEN", 0) == 0)) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    } catch (const util::Error& e) {
        util::logger("engine")->warn("freeze {}: {}", name_, e.what());
    }
}

void Cgroup::thaw() const {
    try {
        if (v2_) {
            write_text(freezer_dir_ / "cgroup.freeze", "0");
        } else {
            write_text(freezer_dir_ / "freezer.state", "THAWED");
        }
    } catch (const util::Error& e) {
        util::logger("engine")->warn("thaw {}: {}", name_, e.what());
    }
}

bool Cgroup::kill_all(double wait_s) const {
    if (procs_dir_.empty()) {
        return true;
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<long>(wait_s * 1000));
    for (;;) {
        auto tasks = pids();
        if (tasks.empty()) {
            return true;
        }
        if (v2_ && fs::exists(freezer_dir_ / "cgroup.kill")) {
            try {
                write_text(freezer_dir_ / "cgroup.kill", "1");
            } catch (const util::Error&) {
            }
        } else {
            // Freeze first so a forking tree cannot outrun the kill loop.
            freeze();
            for (pid_t p : pids()) {
                ::kill(p, SIGKILL);
            }
            thaw();
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return pids().empty();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

bool Cgroup::oom_killed() const {
    if (memory_dir_.empty()) {
        return false;
    }
    if (v2_) {
        std::string ev = read_text(memory_dir_ / "memory.events");
        auto pos = ev.find("oom_kill ");
        return pos != std::string::npos && std::atol(ev.c_str() + pos + 9) > 0;
    }
    std::string ev = read_text(memory_dir_ / "memory.oom_control");
    auto pos = ev.find("oom_kill ");
    if (pos != std::string::npos) {
        return std::atol(ev.c_str() + pos + 9) > 0;
    }
    return std::atol(read_text(memory_dir_ / "memory.failcnt").c_str()) > 0;
}

bool remove_cgroup_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        return true;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        // Kill any task still inside (v1 freezer dirs hold the same tasks as the others).
        std::ifstream f(dir / "cgroup.procs");
        long p = 0;
        bool any = false;
        while (f >> p) {
            any = true;
            ::kill(static_cast<pid_t>(p), SIGKILL);
        }
        if (fs::exists(dir / "freezer.state", ec)) {
            try {
                write_text(dir / "freezer.state", "THAWED");
            } catch (const util::Error&) {
            }
        } else if (fs::exists(dir / "cgroup.freeze", ec)) {
            try {
                write_text(dir / "cgroup.freeze", "0");
            } catch (const util::Error&) {
            }
        }
        if (!any && ::rmdir(dir.c_str()) == 0) {
            return true;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace engine::native
