// engine/engine_factory.cpp — engine registry.
#include "engine/engine_factory.hpp"

#include <cstdlib>

#include "engine/native/native_engine.hpp"
#include "engine/xen/xen_engine.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace engine {

namespace {

std::uint64_t parse_u64(const std::string& key, const std::string& v) {
    char* end = nullptr;
    unsigned long long x = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || end != v.c_str() + v.size() || v[0] == '-') {
        throw util::InputError("engine option " + key + ": not a non-negative integer: " + v);
    }
    return x;
}

}  // namespace

std::unique_ptr<Engine> make_engine(const std::string& name, const EngineOptions& options) {
    if (name == "xen") {
        return std::make_unique<xen::XenEngine>(xen::parse_xen_options(options));
    }
    if (name != "native") {
        throw util::InputError("unknown engine: " + name + " (available: native, xen)");
    }
    native::NativeEngineOptions o;
    for (const auto& [k, v] : options) {
        if (k == "golden_prefix") {
            o.golden_prefix = v;
        } else if (k == "scratch_root") {
            o.scratch_root = v;
        } else if (k == "tools_dir") {
            o.tools_dir = v;
        } else if (k == "hooks_file") {
            o.hooks_file = v;
        } else if (k == "memory_mb") {
            o.limits.memory_bytes = parse_u64(k, v) << 20;
        } else if (k == "cpus") {
            o.limits.cpus = static_cast<double>(parse_u64(k, v));
        } else if (k == "max_pids") {
            o.limits.max_pids = parse_u64(k, v);
        } else if (k == "writable_quota_mb") {
            o.writable_quota_bytes = parse_u64(k, v) << 20;
            if (o.writable_quota_bytes == 0) {
                throw util::InputError("engine option writable_quota_mb must be positive");
            }
        } else if (k == "trace_quota_mb") {
            o.trace_quota_bytes = parse_u64(k, v) << 20;
            if (o.trace_quota_bytes == 0) {
                throw util::InputError("engine option trace_quota_mb must be positive");
            }
        } else if (k == "warm_up" || k == "tracing" || k == "early_exit") {
            if (v != "0" && v != "1" && v != "true" && v != "false") {
                throw util::InputError("engine option " + k + ": not a boolean: " + v);
            }
            (k == "warm_up"   ? o.warm_up
             : k == "tracing" ? o.tracing
                              : o.early_exit) = v == "1" || v == "true";
        } else {
            throw util::InputError("unknown native engine option: " + k);
        }
    }
    return std::make_unique<native::NativeEngine>(std::move(o), util::system_clock());
}

}  // namespace engine
