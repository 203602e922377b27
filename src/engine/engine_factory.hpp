// engine/engine_factory.hpp — builds an Engine by name (style rule 4: factories return
// std::unique_ptr<Engine>); "native" is the embedded default engine (issue 3), "xen" drives
// DRAKVUF on Xen (issue 9).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "engine/engine.hpp"

namespace engine {

// EngineOptions: flat key/value settings from the config section named after the engine.
// [native]: golden_prefix, scratch_root, tools_dir, hooks_file, memory_mb, cpus, max_pids,
// writable_quota_mb, trace_quota_mb, warm_up, tracing (0: untraced benchmark baseline), early_exit.
// [xen]: see engine::xen::parse_xen_options (vm_id, snapshot_file, profiles_dir, storage, ...).
// Unknown keys are rejected.
using EngineOptions = std::map<std::string, std::string>;

// make_engine returns the engine called `name` ("native" or "xen"). Throws util::InputError for an
// unknown engine name, an unknown option or a malformed value.
std::unique_ptr<Engine> make_engine(const std::string& name, const EngineOptions& options = {});

}  // namespace engine
