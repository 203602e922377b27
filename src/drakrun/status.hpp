// drakrun/status.hpp — analysis status records in Redis, as the original web UI expects
// (spec drakvuf-output.md §9.5): `drakrun.analysis:<uid>` = {"status": ..., "metadata": {...}}
// and the `drakrun.analyses` list (newest first). Shared by the worker and drak-web.
// Improvement over upstream: the list is trimmed together with the dropped records, so it does
// not grow forever.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "karton/redis.hpp"

namespace drakrun {

enum class AnalysisState { Pending, Started, Finished, Crashed };
const char* to_string(AnalysisState s);
std::optional<AnalysisState> parse_analysis_state(std::string_view s);

// AnalysisStatus is one record.
struct AnalysisStatus {
    std::string uid;
    AnalysisState state = AnalysisState::Pending;
    nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
};

// StatusStore reads and writes status records over one Redis connection (not owned).
class StatusStore {
  public:
    static constexpr std::size_t kKeepRecent = 100;

    explicit StatusStore(karton::Connection& redis) : redis_(redis) {}

    static std::string record_key(std::string_view uid) {
        return "drakrun.analysis:" + std::string(uid);
    }
    static constexpr std::string_view kListKey = "drakrun.analyses";

    // create_pending creates the record if absent (SET NX) and pushes the uid on the list,
    // dropping records beyond the newest kKeepRecent. Returns false when it already existed.
    bool create_pending(std::string_view uid);
    // set creates or replaces the record (the worker's start, finish and crash updates).
    void set(std::string_view uid, AnalysisState state, const nlohmann::ordered_json& metadata);
    // get returns the record or nullopt. A record that is not valid JSON is reported as
    // Crashed with {"error": "unreadable status record"} rather than throwing.
    std::optional<AnalysisStatus> get(std::string_view uid);
    // recent returns up to `limit` records, newest first, skipping uids without a record.
    std::vector<AnalysisStatus> recent(std::size_t limit = kKeepRecent);
    // set_vm_instance records which worker instance runs the analysis (`drakvnc:<uid>`, 1 h).
    void set_vm_instance(std::string_view uid, int instance);

  private:
    karton::Connection& redis_;
};

}  // namespace drakrun
