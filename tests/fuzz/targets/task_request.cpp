// Fuzz target task_request: drakrun::parse_task_request on a karton task parsed from the input
// (the worker's validation of an analysis request). Documented errors: util::Error
// subclasses (TaskRejected, TaskError, JsonError).
#include "drakrun/task_options.hpp"
#include "karton/task.hpp"
#include "targets.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"

namespace fuzz {

int fuzz_task_request(const std::uint8_t* data, std::size_t size) {
    util::FixedStepClock clock(1700000000.0, 0.5);
    try {
        const karton::Task task = karton::parse_task(as_text(data, size), clock);
        drakrun::WorkerSettings settings;
        const drakrun::TaskRequest req = drakrun::parse_task_request(task, settings);
        check(req.timeout_s > 0 && req.timeout_s <= settings.max_timeout,
              "task_request: accepted timeout outside (0, max_timeout]");
        check(drakrun::is_valid_analysis_uid(req.analysis_uid),
              "task_request: accepted invalid analysis uid");
    } catch (const util::Error&) {
    }
    return 0;
}

}  // namespace fuzz
