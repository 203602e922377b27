// karton/router.cpp — pure routing plan for one batch (spec §7.2).
#include "karton/router.hpp"

#include <utility>

namespace karton {

RouteBind RouteBind::compile(std::string identity, const json::Value& filters) {
    RouteBind b;
    b.identity_ = std::move(identity);
    try {
        b.filter_ = Filter::compile(filters);
    } catch (const FilterError& e) {
        b.error_ = e;
    }
    return b;
}

bool RouteBind::matches(const json::Object& headers) const {
    if (error_) {
        throw *error_;
    }
    return filter_->matches(headers);
}

std::string outputs_key_for(const json::Object& headers) {
    const json::Value* origin = headers.find("origin");
    return "karton.outputs:" +
           (origin == nullptr ? std::string("unknown") : json::python_str(*origin));
}

RoutePlan plan_routing(std::vector<Task> batch, const std::vector<RouteBind>& binds,
                       util::IdSource& ids, util::Clock& clock, const RouterOptions& options) {
    RoutePlan plan;
    plan.tasks.reserve(batch.size());
    for (const Task& task : batch) {
        RoutedTask rt;
        rt.uid = task.uid;
        rt.log_line = "[" + task.root_uid + "] Processing task " + std::string(task.short_id());
        if (options.task_tracking) {
            rt.outputs_key = outputs_key_for(task.headers);
            json::DumpOptions insertion_order;
            insertion_order.sort_keys = false;
            rt.outputs_member = json::dump(json::Value(task.headers), insertion_order);
        }
        for (const RouteBind& bind : binds) {
            bool matched = false;
            try {
                matched = bind.matches(task.headers);
            } catch (const QueryError&) {
                rt.query_error_binds.push_back(bind.identity());
                continue;
            } catch (const FilterError& e) {
                // The reference raises out of the loop: the queued pipeline is never executed
                // and no task of the batch is marked Finished.
                rt.complete = false;
                rt.forks.clear();
                plan.tasks.push_back(std::move(rt));
                plan.abort_error = e;
                return plan;
            }
            if (!matched) {
                continue;
            }
            // Compat: Task() reads the clock, then route_task sets last_update again.
            (void)clock.now();
            RoutedFork fork;
            fork.identity = bind.identity();
            fork.task = fork_for_bind(task, bind.identity(), ids, clock);
            fork.uid = fork.task.uid;
            fork.priority = std::string(to_string(fork.task.priority));
            fork.task_json = serialize_task(fork.task);
            rt.forks.push_back(std::move(fork));
        }
        plan.tasks.push_back(std::move(rt));
    }
    for (Task& task : batch) {
        if (set_status(task, Status::Finished, clock)) {
            plan.finished.emplace_back(task.uid, serialize_task(task));
        }
    }
    return plan;
}

}  // namespace karton
