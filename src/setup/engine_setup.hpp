// setup/engine_setup.hpp — `draksetup sanity` (engine prerequisites with fix hints, issue 8)
// and `draksetup install` (native: build the golden Wine prefix of engine/native/wine_prefix.hpp
// with progress). The engine and its options come from [drakrun] engine and [native]/[xen].
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "karton/config.hpp"

namespace drak_setup {

// engine_name returns `override` when set, else [drakrun] engine, else "native".
std::string engine_name(const karton::Config& cfg, const std::optional<std::string>& override);

// sanity_checks lists the prerequisites of `engine`: the engine's own sanity() for native;
// for xen (not built into this implementation) the host checks (Xen hypervisor, xl, drakvuf)
// plus an explanation. Throws util::InputError for an unknown engine or bad options.
std::vector<engine::SanityCheck> sanity_checks(const karton::Config& cfg,
                                               const std::string& engine);

// print_sanity writes one "[ ok ] / [FAIL] name: detail" line per check and returns whether
// all passed.
bool print_sanity(const std::vector<engine::SanityCheck>& checks, std::ostream& out);

// install_engine prepares `engine` (native: builds the golden prefix at [native] golden_prefix
// unless a complete one exists), printing progress every `tick` to `out`. Throws util::Error.
void install_engine(const karton::Config& cfg, const std::string& engine, std::ostream& out,
                    std::chrono::seconds tick = std::chrono::seconds(5));

}  // namespace drak_setup
