#include "drakrun/status.hpp"

#include "postprocess/py_json.hpp"

namespace drakrun {

namespace {

std::string encode(AnalysisState state, const nlohmann::ordered_json& metadata) {
    nlohmann::ordered_json doc;
    doc["status"] = to_string(state);
    doc["metadata"] = metadata;
    // Python default separators, as the original writes it.
    return postprocess::py_dumps(doc);
}

std::optional<AnalysisStatus> decode(std::string_view uid, const std::string& text) {
    AnalysisStatus st;
    st.uid = std::string(uid);
    auto doc = nlohmann::ordered_json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("status") ||
        !doc["status"].is_string()) {
        st.state = AnalysisState::Crashed;
        st.metadata = {{"error", "unreadable status record"}};
        return st;
    }
    auto state = parse_analysis_state(doc["status"].get<std::string>());
    st.state = state.value_or(AnalysisState::Crashed);
    if (doc.contains("metadata") && doc["metadata"].is_object()) {
        st.metadata = doc["metadata"];
    }
    return st;
}

}  // namespace

const char* to_string(AnalysisState s) {
    switch (s) {
        case AnalysisState::Pending:
            return "pending";
        case AnalysisState::Started:
            return "started";
        case AnalysisState::Finished:
            return "finished";
        case AnalysisState::Crashed:
            return "crashed";
    }
    return "crashed";
}

std::optional<AnalysisState> parse_analysis_state(std::string_view s) {
    if (s == "pending") {
        return AnalysisState::Pending;
    }
    if (s == "started") {
        return AnalysisState::Started;
    }
    if (s == "finished") {
        return AnalysisState::Finished;
    }
    if (s == "crashed") {
        return AnalysisState::Crashed;
    }
    return std::nullopt;
}

bool StatusStore::create_pending(std::string_view uid) {
    std::string key = record_key(uid);
    auto reply = redis_.command(
        {"SET", key, encode(AnalysisState::Pending, nlohmann::ordered_json::object()), "NX"});
    if (reply.is_nil()) {
        return false;
    }
    redis_.command({"LPUSH", kListKey, uid});
    // Drop records beyond the newest kKeepRecent, and trim the list with them.
    auto old = redis_.command({"LRANGE", kListKey, std::to_string(kKeepRecent), "-1"});
    std::vector<std::vector<std::string>> cmds;
    for (const auto& r : old.as_array()) {
        cmds.push_back({"DEL", record_key(r.as_string())});
    }
    if (!cmds.empty()) {
        cmds.push_back({"LTRIM", std::string(kListKey), "0", std::to_string(kKeepRecent - 1)});
        redis_.pipeline(cmds);
    }
    return true;
}

void StatusStore::set(std::string_view uid, AnalysisState state,
                      const nlohmann::ordered_json& metadata) {
    std::string key = record_key(uid);
    auto existed = redis_.command({"SET", key, encode(state, metadata), "XX"});
    if (existed.is_nil()) {
        // Tasks that did not come through drak-web (e.g. a Python producer) get a record too.
        redis_.command({"SET", key, encode(state, metadata)});
        redis_.command({"LPUSH", kListKey, uid});
        redis_.command({"LTRIM", kListKey, "0", std::to_string(kKeepRecent * 10)});
    }
}

std::optional<AnalysisStatus> StatusStore::get(std::string_view uid) {
    auto reply = redis_.command({"GET", record_key(uid)});
    auto text = reply.as_optional_string();
    if (!text) {
        return std::nullopt;
    }
    return decode(uid, *text);
}

std::vector<AnalysisStatus> StatusStore::recent(std::size_t limit) {
    std::vector<AnalysisStatus> out;
    if (limit == 0) {
        return out;
    }
    auto ids = redis_.command({"LRANGE", kListKey, "0", std::to_string(limit - 1)});
    std::vector<std::string> uids;
    std::vector<std::string_view> mget = {"MGET"};
    for (const auto& r : ids.as_array()) {
        uids.push_back(r.as_string());
    }
    std::vector<std::string> keys;
    keys.reserve(uids.size());
    for (const auto& u : uids) {
        keys.push_back(record_key(u));
    }
    for (const auto& k : keys) {
        mget.push_back(k);
    }
    if (keys.empty()) {
        return out;
    }
    auto values = redis_.command(mget);
    const auto& arr = values.as_array();
    for (std::size_t i = 0; i < arr.size() && i < uids.size(); ++i) {
        if (auto text = arr[i].as_optional_string()) {
            if (auto st = decode(uids[i], *text)) {
                out.push_back(std::move(*st));
            }
        }
    }
    return out;
}

void StatusStore::set_vm_instance(std::string_view uid, int instance) {
    redis_.command({"SET", "drakvnc:" + std::string(uid), std::to_string(instance), "EX", "3600"});
}

}  // namespace drakrun
