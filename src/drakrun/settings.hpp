// drakrun/settings.hpp — everything drakrun reads from /etc/drakrun/config.ini: the [drakrun]
// worker options (data/config.ini documents each), the engine options ([native] / [xen]), and
// the Karton service settings.
#pragma once

#include <filesystem>
#include <optional>

#include "drakrun/task_options.hpp"
#include "engine/engine_factory.hpp"
#include "karton/config.hpp"

namespace drakrun {

// worker_settings reads [drakrun]; absent options keep WorkerSettings' defaults. Throws
// karton::ConfigError naming the option for bad values (non-integer, JSON that is not a
// list/object, max_timeout above the hard cap of 1200 s, unknown engine name...).
WorkerSettings worker_settings(const karton::Config& cfg);

// engine_options returns the options section of the chosen engine ([native] or [xen]) as
// the flat map make_engine takes; unknown keys are left for make_engine to reject.
engine::EngineOptions engine_options(const karton::Config& cfg, const std::string& engine);

}  // namespace drakrun
