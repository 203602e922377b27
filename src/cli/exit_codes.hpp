// cli/exit_codes.hpp — process exit codes of every executable (style rule 13).
#pragma once

namespace cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;        // the requested work failed (analysis crashed, ...)
inline constexpr int kExitUsage = 2;          // bad command line (CLI11 uses 105+ for parse errors)
inline constexpr int kExitConfig = 3;         // configuration missing or invalid
inline constexpr int kExitInput = 4;          // input rejected (bad sample, bad options)
inline constexpr int kExitEngine = 5;         // the engine cannot run (missing prerequisites)
inline constexpr int kExitInterrupted = 130;  // SIGINT

}  // namespace cli
