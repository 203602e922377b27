// drakrun/task_options.hpp — what the worker reads from an incoming Karton sample task
// (issue 5 / spec drakvuf-output.md §9.1): sample and custom_hooks resources, timeout, plugins,
// start_command, file_name, override_uid, testcase; headers quality, extension, platform.
// Every value is hostile input: wrong types and out-of-range values are rejected with a
// message that names the key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "karton/json.hpp"
#include "karton/resource.hpp"
#include "karton/task.hpp"
#include "util/error.hpp"

namespace drakrun {

// WorkerSettings: the [drakrun] section (data/config.ini documents each option).
struct WorkerSettings {
    static constexpr int kHardMaxTimeout = 1200;  // 20 minutes; configurable downwards only

    std::string identity = "karton.drakrun-prod";
    karton::json::Value filters;  // null: default filters for the engine's platforms
    karton::json::Object headers = {{"type", "analysis"}, {"kind", "drakrun"}};
    bool sample_testing = false;
    karton::json::Value test_filters;  // null: sample-test filters
    karton::json::Object test_headers = {{"type", "analysis-test"}, {"kind", "drakrun"}};
    std::string engine = "native";
    std::string artifacts_bucket = "drakrun";
    int analysis_timeout = 600;
    int analysis_low_timeout = 300;
    int max_timeout = kHardMaxTimeout;
    std::vector<std::string> plugins = {"procmon", "apimon",  "filetracer", "regmon", "socketmon",
                                        "tlsmon",  "memdump", "librarymon", "exmon"};
    std::vector<std::string> plugins_low = {"procmon", "filetracer", "regmon", "socketmon",
                                            "memdump"};
    bool use_root_uid = false;
    int attempts = 3;
    std::string work_dir = "/var/lib/drakrun/work";
    std::uint64_t dumps_max_size = 314572800;
    // Largest sample the worker downloads ([drakrun] max_sample_size, bytes). Checked against
    // the object's real size in S3 before anything is downloaded.
    std::uint64_t max_sample_size = 512ull << 20;
    static constexpr std::uint64_t kHardMaxSampleSize = 64ull << 30;
};

// TaskRejected: the task asks for something we refuse (bad types, timeout above the cap,
// missing sample). Not retryable.
class TaskRejected : public util::InputError {
  public:
    using util::InputError::InputError;
};

// TaskRequest: the validated analysis request.
struct TaskRequest {
    karton::Resource sample;
    karton::json::Value sample_marker;  // the input `sample` value, passed through unchanged
    std::optional<karton::Resource> custom_hooks;
    std::string analysis_uid;
    int timeout_s = 600;
    std::vector<std::string> plugins;
    std::string start_command;  // empty: default for the extension
    std::string file_name;      // requested (validated later; unsafe -> random safe name)
    std::string extension;      // normalized `extension` header, or ""
    std::string quality = "high";
    std::string platform;  // `platform` header (win32/win64/linux) or ""
    std::optional<karton::json::Value> testcase;
};

// is_valid_analysis_uid: 1..128 characters of [A-Za-z0-9{}:._-], not starting with '.', no
// "..": analysis uids become S3 key prefixes and directory names.
bool is_valid_analysis_uid(std::string_view uid);

// parse_task_request validates the task against `settings`. Throws TaskRejected.
TaskRequest parse_task_request(const karton::Task& task, const WorkerSettings& settings);

// default_filters returns the consumer filters: win32 + win64 (execute != False), plus linux
// when `with_linux`; test filters ("sample-test") are appended when sample_testing is set.
karton::json::Value default_filters(bool with_linux);

}  // namespace drakrun
