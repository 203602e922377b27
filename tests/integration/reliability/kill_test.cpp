// Fault injection (issue 10): the real drak-system and drakrun worker processes SIGKILLed at
// seeded random moments while samples are produced, routed and analysed. Afterwards every
// produced sample has exactly one routed copy for the worker; each copy is Finished with exactly
// one analysis task, or — when the worker died while analysing it — stays Started until the
// garbage collector's task_started_timeout marks it Crashed (karton-core's behaviour: a task of
// a dead consumer is never re-queued; crash_started_tasks_on_timeout = 1 here). A copy left
// Spawned outside the queue (worker killed between its BLPOP and marking the task Started, the
// karton protocol's at-most-once window) is reported as lost-stranded, at most one per worker
// kill; any other end state fails. No analysis is emitted twice.
#include <gtest/gtest.h>

#include <random>

#include "karton/gc_policy.hpp"
#include "reliability_env.hpp"

namespace json = karton::json;
using karton_test::KartonEnv;
using reliability::Child;
using reliability::Recorder;

namespace {

// routed_copies scans every task document: receiver == `identity` -> (orig_uid -> tasks).
std::map<std::string, std::vector<karton::Task>> routed_copies(KartonEnv& env,
                                                               const std::string& identity) {
    std::map<std::string, std::vector<karton::Task>> out;
    auto b = env.backend();
    std::string cursor = "0";
    do {
        auto r =
            b->connection().command({"SCAN", cursor, "MATCH", "karton.task:*", "COUNT", "500"});
        cursor = r.as_array()[0].as_string();
        for (const auto& key : r.as_array()[1].as_array()) {
            auto text = b->connection().command({"GET", key.as_string()});
            if (text.is_nil()) {
                continue;
            }
            karton::Task t = karton::parse_task(text.as_string(), env.clock);
            const auto* recv = t.headers.find("receiver");
            if (recv != nullptr && recv->is_string() && recv->as_string() == identity) {
                out[t.orig_uid.value_or("")].push_back(t);
            }
        }
    } while (cursor != "0");
    return out;
}

TEST(KillNine, SystemAndWorkerKilledAtRandomPointsLoseAndDuplicateNothing) {
    ASSERT_TRUE(reliability::isolated()) << "fault-injection tests must run as root";
    reliability::bring_up_loopback();
    KartonEnv env;
    util::TempDir dir("fi-kill");
    const std::string worker_id = "karton.fi-drakrun";
    auto config = reliability::write_worker_config(dir.path(), dir.path(), env, worker_id,
                                                   {"crash_started_tasks_on_timeout = 1"});
    std::vector<std::string> system_argv = {reliability::bin("drak-system"), "--config-file",
                                            config.string(), "--disable-gc", "--setup-bucket"};
    Child system(system_argv, dir.path() / "drak-system.log");
    Child worker({reliability::bin("drakrun"), "--config-file", config.string(), "worker",
                  "--instance", "1"},
                 dir.path() / "worker.log");
    Recorder analyses(
        env.settings, "karton.fi-analyses", R"([{"type": "analysis", "kind": "drakrun"}])",
        [](const karton::Task& t) { return t.payload.at("analysis_uid").as_string(); });
    ASSERT_TRUE(KartonEnv::wait_for(
        [&] {
            return reliability::bind_registered(env, worker_id) &&
                   reliability::bind_registered(env, "karton.fi-analyses");
        },
        std::chrono::seconds(30)))
        << worker.log_text();

    constexpr int kIterations = 12;
    const unsigned seed = 20261209;
    std::printf("seed %u\n", seed);
    std::mt19937 rng(seed);
    karton::Producer producer(env.settings, "karton.fi-producer");
    std::map<std::string, std::string> produced;  // sample task uid -> analysis uid
    int kills = 0;
    int worker_kills = 0;
    for (int it = 0; it < kIterations; ++it) {
        auto t = karton::new_task({{"type", "sample"},
                                   {"stage", "recognized"},
                                   {"platform", "linux"},
                                   {"kind", "runnable"}},
                                  env.ids, env.clock);
        t.payload.set("sample", t.attach_resource(karton::resource_from_file(
                                    "elf_sleeper", reliability::program("elf_sleeper"), env.ids)));
        const std::string analysis_uid = "fi-kill-" + std::to_string(it);
        t.payload.set("override_uid", analysis_uid);
        producer.send_task(t);
        produced[t.uid] = analysis_uid;
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 2500)(rng)));
        const int victim = std::uniform_int_distribution<int>(0, 2)(rng);  // system, worker, both
        if (victim != 1) {
            system.kill9();
            ++kills;
        }
        if (victim != 0) {
            worker.kill9();
            ++kills;
            ++worker_kills;
        }
        system.start();
        worker.start();
    }
    // Drain: the router empties karton.tasks, the worker its queue; then SIGTERM the worker (it
    // finishes the task in hand), so every task still Started belongs to a killed worker.
    auto llen = [&](const std::string& key) {
        return env.backend()->connection().command({"LLEN", key}).as_integer();
    };
    EXPECT_TRUE(KartonEnv::wait_for(
        [&] {
            return llen("karton.tasks") == 0 && llen("karton.system.processing:main") == 0 &&
                   llen("karton.queue.normal:" + worker_id) == 0;
        },
        std::chrono::seconds(60)))
        << worker.log_text();
    EXPECT_EQ(worker.terminate(), 0) << worker.log_text();
    // Analysis tasks sent by the worker are routed to the recorder.
    KartonEnv::wait_for([&] { return llen("karton.tasks") == 0; });
    std::this_thread::sleep_for(std::chrono::seconds(2));

    auto copies = routed_copies(env, worker_id);
    auto seen = analyses.seen();
    int lost = 0, duplicated = 0, finished = 0, orphaned = 0, stranded = 0;
    std::vector<std::string> stranded_analyses;
    std::vector<std::string> orphans;
    for (const auto& [uid, analysis_uid] : produced) {
        auto it = copies.find(uid);
        if (it == copies.end()) {
            ++lost;
            ADD_FAILURE() << "sample task " << uid << " was never routed to the worker";
            continue;
        }
        if (it->second.size() > 1) {
            duplicated += static_cast<int>(it->second.size()) - 1;
            ADD_FAILURE() << uid << " routed " << it->second.size() << " times";
        }
        const karton::Task& copy = it->second.front();
        const int outputs = seen.count(analysis_uid) ? seen.at(analysis_uid) : 0;
        if (outputs > 1) {
            duplicated += outputs - 1;
        }
        if (copy.status == karton::Status::Finished) {
            ++finished;
            EXPECT_EQ(outputs, 1) << analysis_uid;
        } else if (copy.status == karton::Status::Started) {
            // Killed mid-analysis: left for the GC (at most one analysis task, if the kill came
            // after it was sent).
            ++orphaned;
            orphans.push_back(copy.uid);
            EXPECT_LE(outputs, 1) << analysis_uid;
        } else if (copy.status == karton::Status::Spawned) {
            // The worker was killed after its BLPOP took the uid and before it marked the task
            // Started: karton's at-most-once window (docs/reliability.md). Reported, bounded.
            ++stranded;
            stranded_analyses.push_back(analysis_uid);
            std::printf("stranded: copy %s of %s popped by a killed worker, never started\n",
                        copy.uid.c_str(), uid.c_str());
        } else {
            ++lost;
            ADD_FAILURE() << "copy " << copy.uid << " of " << uid << " ended "
                          << karton::to_string(copy.status);
        }
    }
    EXPECT_LE(stranded, worker_kills);
    // Stranded copies are recovered: drak-system's GC pushes them back onto the worker's queue
    // after [system] task_stranded_grace (1 s here) and a restarted worker analyses them once.
    int recovered = 0;
    if (!stranded_analyses.empty()) {
        const std::filesystem::path recover_dir = dir.path() / "recover";
        std::filesystem::create_directories(recover_dir);
        auto recover_config = reliability::write_worker_config(
            recover_dir, dir.path(), env, worker_id, {"task_stranded_grace = 1"});
        Child recover({reliability::bin("drak-system"), "--config-file", recover_config.string(),
                       "--disable-router", "--gc-interval", "1"},
                      dir.path() / "drak-recover.log");
        worker.start();
        for (const auto& analysis_uid : stranded_analyses) {
            const bool done = KartonEnv::wait_for(
                [&] {
                    auto now_seen = analyses.seen();
                    return now_seen.count(analysis_uid) != 0;
                },
                std::chrono::seconds(60));
            EXPECT_TRUE(done) << analysis_uid << "\n" << recover.log_text();
            recovered += done ? 1 : 0;
        }
        EXPECT_EQ(worker.terminate(), 0) << worker.log_text();
        for (const auto& analysis_uid : stranded_analyses) {
            auto now_seen = analyses.seen();
            EXPECT_EQ(now_seen.count(analysis_uid) ? now_seen.at(analysis_uid) : 0, 1)
                << analysis_uid;
        }
    }
    // The GC crashes the orphans (task_started_timeout 0, crash_started_tasks_on_timeout = 1).
    system.kill9();
    Child gc({reliability::bin("drak-system"), "--config-file", config.string(), "--disable-router",
              "--gc-interval", "1", "--task-started-timeout", "0"},
             dir.path() / "drak-gc.log");
    for (const auto& uid : orphans) {
        EXPECT_TRUE(
            KartonEnv::wait_for([&] { return env.task(uid).status == karton::Status::Crashed; },
                                std::chrono::seconds(20)))
            << uid << "\n"
            << gc.log_text();
        EXPECT_NE(json::dump(env.task(uid).error).find(karton::kStartedTimeoutError),
                  std::string::npos)
            << json::dump(env.task(uid).error);
    }
    EXPECT_TRUE(analyses.running());
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    reliability::fault_summary("kill9_system_worker", kills, static_cast<int>(produced.size()),
                               finished + recovered, lost + stranded - recovered, duplicated,
                               "crashed by GC after worker kill " + std::to_string(orphaned) +
                                   ", stranded in the consumer BLPOP window and recovered by "
                                   "drak-system GC " +
                                   std::to_string(recovered) + " of " + std::to_string(stranded));
}

}  // namespace
