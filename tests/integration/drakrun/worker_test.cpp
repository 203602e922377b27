// Worker end to end (issue 5): real redis-server + s3rver, the real native engine running a
// ground-truth ELF program, checked key by key against the seed's analysis task structure.
// The binary re-executes itself in a loopback-only network namespace (second wall).
#include "drakrun/worker.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "drakrun/file_names.hpp"
#include "drakrun/settings.hpp"
#include "engine/engine_factory.hpp"
#include "integration/engine/netns_guard.hpp"
#include "integration/karton/karton_env.hpp"
#include "karton/resource.hpp"
#include "s3/client.hpp"
#include "support/paths.hpp"
#include "util/crypto.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using karton_test::KartonEnv;

namespace {

constexpr const char* kIdentity = "karton.drakrun-test";

// FlakyEngine is a test double of our own Engine interface: it fails every attempt with the
// given retryability and counts the attempts (to check the worker's retry policy).
class FlakyEngine final : public engine::Engine {
  public:
    explicit FlakyEngine(bool retryable, int* attempts)
        : retryable_(retryable), attempts_(attempts) {}
    std::string name() const override { return "flaky"; }
    bool supports_platform(const std::string&) const override { return true; }
    engine::AnalysisResult analyze(const engine::AnalysisRequest&,
                                   const engine::ProgressFn&) override {
        ++*attempts_;
        throw engine::EngineError("simulated engine failure", retryable_);
    }
    std::vector<engine::SanityCheck> sanity() const override { return {}; }

  private:
    bool retryable_;
    int* attempts_;
};

class WorkerTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        ASSERT_TRUE(engine_test::in_isolated_netns()) << "worker tests must run as root";
        // unshare --net leaves loopback down; our servers live on 127.0.0.1.
        ASSERT_EQ(std::system("ip link set lo up"), 0);
    }

    void SetUp() override {
        env_ = std::make_unique<KartonEnv>();
        work_ = std::make_unique<util::TempDir>("drakrun-worker-test");
        settings_.identity = kIdentity;
        settings_.work_dir = (work_->path() / "work").string();
        settings_.analysis_timeout = 20;
        settings_.artifacts_bucket = "drakrun";
    }

    std::unique_ptr<engine::Engine> native_engine() {
        return engine::make_engine(
            "native",
            {{"scratch_root", (work_->path() / "scratch").string()},
             {"tools_dir", (test_support::binary_dir() / "bin").string()},
             {"hooks_file",
              (test_support::binary_dir() / "share" / "drakrun" / "hooks.txt").string()}});
    }

    // send_sample produces a sample task the way a Python Karton producer does and routes it
    // to the worker's queue; returns the routed task's uid.
    std::string send_sample(const fs::path& sample, karton::json::Object extra_payload = {},
                            karton::json::Object headers = {}) {
        karton::Producer producer(env_->settings, "karton.test-producer");
        karton::json::Object h = {{"type", "sample"},
                                  {"stage", "recognized"},
                                  {"platform", "linux"},
                                  {"kind", "runnable"}};
        for (const auto& [k, v] : headers) {
            h.set(k, v);
        }
        auto t = karton::new_task(h, env_->ids, env_->clock);
        t.payload.set("sample", t.attach_resource(karton::resource_from_file(
                                    sample.filename().string(), sample, env_->ids)));
        for (const auto& [k, v] : extra_payload) {
            t.payload.set(k, v);
        }
        producer.send_task(t);
        auto routed = env_->route(kIdentity);
        EXPECT_EQ(routed.size(), 1u);
        return routed.empty() ? "" : routed.front();
    }

    // run_worker_until runs the worker in a thread until `done` or the deadline.
    void run_worker_until(drakrun::Worker& worker, const std::function<bool()>& done,
                          std::chrono::seconds deadline = std::chrono::seconds(90)) {
        std::thread th([&] { worker.run(); });
        bool ok = KartonEnv::wait_for(done, deadline);
        worker.request_stop();
        th.join();
        ASSERT_TRUE(ok) << "worker did not finish in time";
    }

    // analysis_tasks returns the unrouted tasks the worker sent (no router runs in the test).
    std::vector<karton::Task> sent_tasks() {
        auto b = env_->backend();
        auto r = b->connection().command({"LRANGE", "karton.tasks", "0", "-1"});
        std::vector<karton::Task> out;
        for (const auto& uid : r.as_array()) {
            out.push_back(env_->task(uid.as_string()));
        }
        return out;
    }

    std::string status_of(const std::string& uid) {
        auto r = env_->backend()->connection().command({"GET", "drakrun.analysis:" + uid});
        return r.is_nil() ? "" : r.as_string();
    }

    fs::path program(const char* name) { return test_support::binary_dir() / "programs" / name; }

    std::unique_ptr<KartonEnv> env_;
    std::unique_ptr<util::TempDir> work_;
    drakrun::WorkerSettings settings_;
};

TEST_F(WorkerTest, ElfSampleGivesSeedShapedAnalysisTask) {
    std::string routed =
        send_sample(program("elf_behaviour"), {{"override_uid", "analysis-elf-1"}});
    drakrun::Worker worker(env_->settings, settings_, native_engine(), 1,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    EXPECT_EQ(worker.info().filters.as_array().size(), 3u);  // win32, win64 and linux
    run_worker_until(worker, [&] { return !sent_tasks().empty(); });

    auto tasks = sent_tasks();
    ASSERT_EQ(tasks.size(), 1u);
    const karton::Task& out = tasks[0];
    EXPECT_EQ(out.headers.at("type").as_string(), "analysis");
    EXPECT_EQ(out.headers.at("kind").as_string(), "drakrun");
    EXPECT_EQ(out.headers.at("origin").as_string(), kIdentity);
    EXPECT_EQ(out.parent_uid.value_or(""), routed);

    // The sample resource is passed through unchanged.
    karton::Task in = env_->task(routed);
    EXPECT_EQ(karton::json::dump(out.payload.at("sample")),
              karton::json::dump(in.payload.at("sample")));
    EXPECT_EQ(out.payload.at("analysis_uid").as_string(), "analysis-elf-1");

    // Plugin logs, dumps, pcap: resources in the drakrun bucket under <uid>/<name>.
    s3::S3Client s3(env_->settings.s3);
    for (const char* key : {"procmon.log", "filetracer.log", "socketmon.log", "memdump.log",
                            "dumps.zip", "dumps.pcap", "process_tree.json", "report.json"}) {
        const auto* v = out.payload.find(key);
        ASSERT_NE(v, nullptr) << key;
        ASSERT_TRUE(karton::is_resource_marker(*v)) << key;
        auto r = karton::resource_from_marker(*v);
        EXPECT_EQ(r.bucket.value_or(""), "drakrun") << key;
        EXPECT_EQ(r.uid, std::string("analysis-elf-1/") + key);
        std::string bytes = s3.get_object("drakrun", r.uid);
        EXPECT_EQ(static_cast<std::int64_t>(bytes.size()), r.size.value_or(-1)) << key;
        EXPECT_EQ(util::sha256_hex(bytes), r.sha256.value_or("")) << key;
    }
    EXPECT_EQ(out.payload.find("wireshark_key_file.txt"), nullptr);  // no TLS in this sample
    std::string procmon = s3.get_object("drakrun", "analysis-elf-1/procmon.log");
    EXPECT_NE(procmon.find("drak-gt-child --marker=42"), std::string::npos);

    // dumps_metadata: list of {filename: dumps/<base>_<hash>, base_address: 0x...}.
    const auto& dumps = out.payload.at("dumps_metadata").as_array();
    ASSERT_FALSE(dumps.empty());
    for (const auto& d : dumps) {
        EXPECT_TRUE(d.as_object().at("filename").as_string().starts_with("dumps/"));
        EXPECT_TRUE(d.as_object().at("base_address").as_string().starts_with("0x"));
    }

    // metadata dict: the seed's keys plus ours.
    const auto& meta = out.payload.at("metadata").as_object();
    EXPECT_EQ(meta.at("sample_sha256").as_string(),
              util::sha256_file_hex(program("elf_behaviour")));
    EXPECT_NE(meta.at("magic_output").as_string().find("ELF 64-bit"), std::string::npos);
    EXPECT_TRUE(meta.at("time_started").is_int());
    EXPECT_TRUE(meta.at("time_finished").is_int());
    EXPECT_GE(meta.at("time_finished").as_int(), meta.at("time_started").as_int());
    EXPECT_TRUE(meta.at("snapshot_version").is_int());
    EXPECT_EQ(meta.at("analysis_uid").as_string(), "analysis-elf-1");
    EXPECT_EQ(meta.at("engine").as_string(), "native");
    EXPECT_TRUE(meta.at("plugins").is_array());
    EXPECT_FALSE(meta.at("start_command").as_string().empty());

    // Status record finished; drakrun.log uploaded; routed task Finished.
    EXPECT_NE(status_of("analysis-elf-1").find("\"status\": \"finished\""), std::string::npos);
    EXPECT_NE(s3.get_object("drakrun", "analysis-elf-1/drakrun.log").find("uploading artifacts"),
              std::string::npos);
    EXPECT_EQ(env_->task(routed).status, karton::Status::Finished);
    // The work directory is cleaned up.
    EXPECT_TRUE(fs::is_empty(work_->path() / "work" / "instance-1"));
}

TEST_F(WorkerTest, TimeoutAboveCapIsRefusedWithClearError) {
    std::string routed = send_sample(program("elf_behaviour"),
                                     {{"override_uid", "analysis-cap"}, {"timeout", 5000}});
    drakrun::Worker worker(env_->settings, settings_, native_engine(), 2,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    run_worker_until(worker, [&] { return env_->task(routed).status == karton::Status::Crashed; });
    auto t = env_->task(routed);
    std::string error = karton::json::dump(t.error);
    EXPECT_NE(error.find("exceeds the maximum of 1200 s"), std::string::npos) << error;
    EXPECT_NE(status_of("analysis-cap").find("crashed"), std::string::npos);
    EXPECT_TRUE(sent_tasks().empty());
}

TEST_F(WorkerTest, MissingSampleAndWrongTypesCrashTheTaskOnly) {
    karton::Producer producer(env_->settings, "karton.test-producer");
    auto t = karton::new_task({{"type", "sample"}, {"stage", "recognized"}, {"platform", "win32"}},
                              env_->ids, env_->clock);
    t.payload.set("timeout", "sixty");
    producer.send_task(t);
    auto routed = env_->route(kIdentity);
    ASSERT_EQ(routed.size(), 1u);
    drakrun::Worker worker(env_->settings, settings_, native_engine(), 3,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    run_worker_until(worker,
                     [&] { return env_->task(routed[0]).status == karton::Status::Crashed; });
    std::string error = karton::json::dump(env_->task(routed[0]).error);
    EXPECT_NE(error.find("has no 'sample'"), std::string::npos) << error;
}

TEST_F(WorkerTest, OversizedOrMissingSampleIsRefusedBeforeDownloading) {
    // Over [drakrun] max_sample_size: refused from the S3 object's size, nothing downloaded.
    settings_.max_sample_size = 1000;
    ASSERT_GT(fs::file_size(program("elf_behaviour")), 1000u);
    std::string big = send_sample(program("elf_behaviour"), {{"override_uid", "analysis-big"}});
    // Missing object: the marker points at a key that was deleted from the bucket.
    std::string gone = send_sample(program("elf_behaviour"), {{"override_uid", "analysis-gone"}});
    const karton::Resource stored =
        karton::resource_from_marker(env_->task(gone).payload.at("sample"));
    const std::string key = stored.uid;
    s3::S3Client(env_->settings.s3).delete_object(stored.bucket.value_or(""), key);

    drakrun::Worker worker(env_->settings, settings_, native_engine(), 6,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    run_worker_until(worker, [&] {
        return env_->task(big).status == karton::Status::Crashed &&
               env_->task(gone).status == karton::Status::Crashed;
    });
    std::string error = karton::json::dump(env_->task(big).error);
    EXPECT_NE(error.find("over [drakrun] max_sample_size (1000 bytes)"), std::string::npos)
        << error;
    EXPECT_NE(status_of("analysis-big").find("max_sample_size"), std::string::npos);
    error = karton::json::dump(env_->task(gone).error);
    EXPECT_NE(error.find("sample resource " + key + " does not exist"), std::string::npos) << error;
    EXPECT_TRUE(sent_tasks().empty());
}

TEST_F(WorkerTest, UnsafeFileNameIsReplaced) {
    std::string routed = send_sample(program("elf_behaviour"), {{"override_uid", "analysis-name"},
                                                                {"file_name", "../../etc/x;rm"}});
    drakrun::Worker worker(env_->settings, settings_, native_engine(), 4,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    run_worker_until(worker, [&] { return !sent_tasks().empty(); });
    auto tasks = sent_tasks();
    ASSERT_EQ(tasks.size(), 1u);
    const auto& meta = tasks[0].payload.at("metadata").as_object();
    std::string name = meta.at("file_name").as_string();
    EXPECT_TRUE(drakrun::is_safe_file_name(name)) << name;
    EXPECT_EQ(name.find("etc"), std::string::npos);
}

TEST_F(WorkerTest, RetryableEngineFailureIsRetriedThenCrashes) {
    std::string routed =
        send_sample(program("elf_behaviour"), {{"override_uid", "analysis-flaky"}});
    int attempts = 0;
    drakrun::Worker worker(env_->settings, settings_,
                           std::make_unique<FlakyEngine>(true, &attempts), 5,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    run_worker_until(worker, [&] { return env_->task(routed).status == karton::Status::Crashed; });
    EXPECT_EQ(attempts, 3);
    EXPECT_NE(karton::json::dump(env_->task(routed).error).find("simulated engine failure"),
              std::string::npos);
    EXPECT_NE(status_of("analysis-flaky").find("crashed"), std::string::npos);
    // drakrun.log is uploaded in every case.
    s3::S3Client s3(env_->settings.s3);
    std::string log = s3.get_object("drakrun", "analysis-flaky/drakrun.log");
    EXPECT_NE(log.find("attempt 1/3 failed"), std::string::npos) << log;
    EXPECT_TRUE(sent_tasks().empty());
}

TEST_F(WorkerTest, NonRetryableEngineFailureStopsAtOnce) {
    std::string routed =
        send_sample(program("elf_behaviour"), {{"override_uid", "analysis-fatal"}});
    int attempts = 0;
    drakrun::Worker worker(env_->settings, settings_,
                           std::make_unique<FlakyEngine>(false, &attempts), 6,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    run_worker_until(worker, [&] { return env_->task(routed).status == karton::Status::Crashed; });
    EXPECT_EQ(attempts, 1);
}

TEST_F(WorkerTest, Win64SampleUnderWineWithTlsKeys) {
    std::string routed =
        send_sample(program("pe_behaviour64.exe"), {{"override_uid", "analysis-pe64"}},
                    {{"platform", "win64"}, {"extension", "exe"}});
    drakrun::Worker worker(env_->settings, settings_, native_engine(), 7,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    run_worker_until(
        worker, [&] { return !sent_tasks().empty(); }, std::chrono::seconds(240));
    auto tasks = sent_tasks();
    ASSERT_EQ(tasks.size(), 1u);
    const auto& payload = tasks[0].payload;
    for (const char* key : {"procmon.log", "filetracer.log", "regmon.log", "apimon.log",
                            "socketmon.log", "dumps.zip", "dumps.pcap", "wireshark_key_file.txt"}) {
        EXPECT_NE(payload.find(key), nullptr) << key;
    }
    s3::S3Client s3(env_->settings.s3);
    std::string keys = s3.get_object("drakrun", "analysis-pe64/wireshark_key_file.txt");
    EXPECT_TRUE(keys.starts_with("CLIENT_RANDOM ")) << keys;
    std::string files = s3.get_object("drakrun", "analysis-pe64/filetracer.log");
    EXPECT_NE(files.find("drak_gt_dropped.txt"), std::string::npos);
    const auto& meta = payload.at("metadata").as_object();
    EXPECT_NE(meta.at("magic_output").as_string().find("PE32+"), std::string::npos);
    EXPECT_EQ(meta.at("start_command").as_string(), "C:\\users\\user\\Desktop\\pe_behaviour64.exe");
    EXPECT_GT(meta.at("snapshot_version").as_int(), 0);
}

TEST_F(WorkerTest, StopRequestMidAnalysisFinishesTheTaskFirst) {
    // What SIGTERM does to a worker (the consumer's handler calls request_stop): the analysis
    // in progress completes and is reported; nothing is dropped.
    settings_.analysis_timeout = 3;
    std::string routed = send_sample(program("elf_sleeper"), {{"override_uid", "analysis-stop"}});
    drakrun::Worker worker(env_->settings, settings_, native_engine(), 8,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    std::thread th([&] { worker.run(); });
    ASSERT_TRUE(
        KartonEnv::wait_for([&] { return env_->task(routed).status == karton::Status::Started; }));
    worker.request_stop();
    th.join();
    EXPECT_EQ(env_->task(routed).status, karton::Status::Finished);
    auto tasks = sent_tasks();
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].payload.at("analysis_uid").as_string(), "analysis-stop");
    EXPECT_NE(status_of("analysis-stop").find("finished"), std::string::npos);
}

}  // namespace
