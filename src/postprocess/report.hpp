// postprocess/report.hpp — report.json: one at-a-glance summary of an analysis (processes,
// files written/deleted, registry values set, network endpoints and DNS names, dumps, counts
// per plugin, parse errors). Our addition, not upstream; schema in docs/postprocess.md.
// Reads the split logs of spec/drakvuf-output.md §2.3, §2.4, §2.6, §2.7.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "postprocess/postprocess.hpp"

namespace postprocess {

// Maximum entries per list in the report; longer lists are cut and flagged in "truncated".
inline constexpr size_t kReportListLimit = 10000;

// Builds the report from ctx.dir's split logs, ctx.tree (or procmon.log when the tree step
// did not run), ctx.split (or line counts of the *.log files) and ctx.step_metadata.
// Throws util::SystemError on read failure.
nlohmann::ordered_json build_report(const Context& ctx);

}  // namespace postprocess
