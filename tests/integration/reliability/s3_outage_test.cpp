// Fault injection (issue 10): the S3 server (s3rver) stopped mid-download (a consumer of ours
// fetching a 48 MiB resource), mid-upload (the drakrun worker uploading artifacts) and during a
// producer's upload. Each interrupted task ends Crashed with the S3 error in its status; nothing
// half-registered is emitted; after S3 is back, the same consumers serve the next task and every
// resource of an emitted analysis task exists with the declared size and sha256.
#include <gtest/gtest.h>

#include "drakrun/worker.hpp"
#include "engine/engine_factory.hpp"
#include "karton/resource.hpp"
#include "reliability_env.hpp"
#include "s3/error.hpp"
#include "util/crypto.hpp"

namespace json = karton::json;
namespace fs = std::filesystem;
using karton_test::KartonEnv;

namespace {

class S3Outage : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        ASSERT_TRUE(reliability::isolated()) << "fault-injection tests must run as root";
        reliability::bring_up_loopback();
    }
    std::int64_t llen(const std::string& key) {
        return env_.backend()->connection().command({"LLEN", key}).as_integer();
    }
    KartonEnv env_;
    util::TempDir dir_{"fi-s3"};
};

TEST_F(S3Outage, StoppedMidDownloadCrashesTheTaskThenServesTheNext) {
    // 48 MiB, not compressible to nothing: s3rver needs a while to stream it.
    std::string blob(48u << 20, '\0');
    std::uint32_t x = 12345;
    for (auto& c : blob) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 24);
    }
    const std::string blob_sha = util::sha256_hex(blob);
    std::atomic<int> ok{0};
    karton::FunctionConsumer consumer(
        env_.settings,
        reliability::consumer_info("karton.fi-downloader", R"([{"type": "fi-download"}])"),
        [&](karton::TaskContext& ctx) {
            fs::path dest = dir_.path() / ("dl-" + ctx.task().uid);
            ctx.download_to_file(ctx.resource("blob"), dest);
            if (util::sha256_file_hex(dest) != blob_sha) {
                throw std::runtime_error("downloaded content differs");
            }
            ++ok;
        },
        {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    std::atomic<bool> returned{false};
    std::thread th([&] {
        consumer.run();
        returned = true;
    });
    auto send = [&] {
        karton::Producer producer(env_.settings, "karton.fi-producer");
        auto t = karton::new_task({{"type", "fi-download"}}, env_.ids, env_.clock);
        t.payload.set("blob",
                      t.attach_resource(karton::resource_from_bytes("blob", blob, env_.ids)));
        producer.send_task(t);
        auto routed = env_.route("karton.fi-downloader");
        EXPECT_EQ(routed.size(), 1u);
        return routed.empty() ? std::string() : routed[0];
    };
    const std::string first = send();
    const fs::path dest = dir_.path() / ("dl-" + first);
    // Stop S3 once body bytes arrive: the client streams into a hidden temp file
    // (.dl-<uid>.XXXXXX) next to the destination and renames it when complete.
    const std::string temp_prefix = "." + dest.filename().string() + ".";
    std::uintmax_t got_at_stop = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (got_at_stop == 0 && std::chrono::steady_clock::now() < until) {
        std::error_code it_ec;
        for (const auto& e : fs::directory_iterator(dir_.path(), it_ec)) {
            std::error_code size_ec;
            if (e.path().filename().string().starts_with(temp_prefix)) {
                got_at_stop = std::max<std::uintmax_t>(got_at_stop, e.file_size(size_ec));
            }
        }
        if (got_at_stop == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    }
    env_.s3.stop();
    std::error_code ec;
    const bool complete_at_stop = fs::exists(dest, ec) && fs::file_size(dest, ec) == blob.size();
    ASSERT_TRUE(KartonEnv::wait_for([&] {
        auto s = env_.task(first).status;
        return s == karton::Status::Crashed || s == karton::Status::Finished;
    }));
    int crashed = 0;
    if (env_.task(first).status == karton::Status::Crashed) {
        ++crashed;
        const std::string error = json::dump(env_.task(first).error);
        EXPECT_TRUE(error.find("S3") != std::string::npos || error.find("s3") != std::string::npos)
            << error;
        std::printf("mid-download error: %s\n", error.substr(0, 300).c_str());
    }
    EXPECT_GT(got_at_stop, 0u) << "the download never started";
    EXPECT_EQ(env_.task(first).status, karton::Status::Crashed)
        << "the download outlived the stop (complete at stop: " << complete_at_stop << ")";
    std::printf("s3 stopped with %ju of %zu bytes downloaded\n",
                static_cast<std::uintmax_t>(got_at_stop), blob.size());
    // Nothing half-downloaded is left: no destination file, no temp file.
    EXPECT_FALSE(fs::exists(dest, ec));
    for (const auto& e : fs::directory_iterator(dir_.path())) {
        EXPECT_FALSE(e.path().filename().string().starts_with(temp_prefix)) << e.path();
    }
    // A second task while S3 is down: crashes cleanly too (the consumer stays up).
    karton::Task down;
    {
        auto b = env_.backend();
        auto t = karton::new_task({{"type", "fi-download"}}, env_.ids, env_.clock);
        karton::Task u = env_.task(first);
        t.payload.set("blob", u.payload.at("blob"));
        karton::Task f = karton::fork_for_bind(t, "karton.fi-downloader", env_.ids, env_.clock);
        b->set_task(f.uid, karton::serialize_task(f));
        b->push_queue("normal", "karton.fi-downloader", f.uid);
        down = f;
    }
    ASSERT_TRUE(
        KartonEnv::wait_for([&] { return env_.task(down.uid).status == karton::Status::Crashed; }));
    ++crashed;
    env_.s3.start();
    const std::string third = send();
    EXPECT_TRUE(
        KartonEnv::wait_for([&] { return env_.task(third).status == karton::Status::Finished; },
                            std::chrono::seconds(40)));
    EXPECT_FALSE(returned.load());
    consumer.request_stop();
    th.join();
    EXPECT_EQ(ok.load(), crashed == 2 ? 1 : 2);
    reliability::fault_summary("s3_stop_mid_download", 2, 3, ok.load(), 0, 0,
                               "crashed with S3 error " + std::to_string(crashed) + "");
}

TEST_F(S3Outage, ProducerUploadFailureQueuesNothing) {
    karton::Producer producer(env_.settings, "karton.fi-producer");
    env_.s3.stop();
    auto t = karton::new_task({{"type", "fi-upload"}}, env_.ids, env_.clock);
    t.payload.set("blob", t.attach_resource(karton::resource_from_bytes("blob", "abc", env_.ids)));
    EXPECT_THROW(producer.send_task(t), s3::S3Error);
    EXPECT_EQ(llen("karton.tasks"), 0);  // never routed; GC removes the Declared document
    env_.s3.start();
    producer.send_task(t);
    EXPECT_EQ(llen("karton.tasks"), 1);
    reliability::fault_summary("s3_stop_producer_upload", 1, 1, 1, 0, 0);
}

TEST_F(S3Outage, StoppedMidArtifactUploadEmitsNoHalfRegisteredAnalysis) {
    const std::string id = "karton.fi-drakrun";
    drakrun::WorkerSettings ws;
    ws.identity = id;
    ws.work_dir = (dir_.path() / "work").string();
    ws.analysis_timeout = 10;
    ws.plugins = {"procmon", "filetracer", "socketmon", "memdump"};
    auto engine = reliability::native_engine(dir_.path() / "scratch");
    drakrun::Worker worker(env_.settings, ws, std::move(engine), 1,
                           {.poll_timeout_seconds = 1, .install_signal_handlers = false});
    std::atomic<bool> returned{false};
    std::thread th([&] {
        worker.run();
        returned = true;
    });
    auto send = [&](const std::string& analysis_uid) {
        return reliability::send_elf_sample(env_, id, analysis_uid);
    };
    const std::string first = send("fi-s3-upload-1");
    const fs::path log = dir_.path() / "work" / "instance-1" / "fi-s3-upload-1" / "drakrun.log";
    // Poll every millisecond: the upload of a dozen small artifacts takes only tens of ms.
    bool uploading = false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!uploading && std::chrono::steady_clock::now() < until) {
        std::error_code ec;
        if (fs::exists(log, ec)) {
            try {
                uploading = util::read_file(log).find("uploading artifacts") != std::string::npos;
            } catch (const std::exception&) {
            }
        }
        if (!uploading) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ASSERT_TRUE(uploading);
    env_.s3.stop();
    ASSERT_TRUE(KartonEnv::wait_for(
        [&] {
            auto s = env_.task(first).status;
            return s == karton::Status::Crashed || s == karton::Status::Finished;
        },
        std::chrono::seconds(60)));
    const bool crashed = env_.task(first).status == karton::Status::Crashed;
    if (crashed) {
        EXPECT_EQ(llen("karton.tasks"), 0) << "no analysis task for an interrupted upload";
        const std::string error = json::dump(env_.task(first).error);
        EXPECT_NE(error.find("S3"), std::string::npos) << error;
        std::printf("mid-upload error: %s\n", error.substr(0, 300).c_str());
        auto status =
            env_.backend()->connection().command({"GET", "drakrun.analysis:fi-s3-upload-1"});
        EXPECT_NE(status.as_string().find("crashed"), std::string::npos) << status.as_string();
    }
    env_.s3.start();
    const std::string second = send("fi-s3-upload-2");
    ASSERT_TRUE(
        KartonEnv::wait_for([&] { return env_.task(second).status == karton::Status::Finished; },
                            std::chrono::seconds(60)));
    EXPECT_FALSE(returned.load());
    worker.request_stop();
    th.join();

    // Every emitted analysis task: every resource present and complete.
    s3::S3Client s3(env_.settings.s3);
    auto r = env_.backend()->connection().command({"LRANGE", "karton.tasks", "0", "-1"});
    int emitted = 0, resources = 0;
    for (const auto& uid : r.as_array()) {
        karton::Task t = env_.task(uid.as_string());
        if (t.headers.at("type").as_string() != "analysis") {
            continue;
        }
        ++emitted;
        for (const auto& res : karton::find_resources(t.payload)) {
            std::string bytes = s3.get_object(res.bucket.value_or(""), res.uid);
            EXPECT_EQ(static_cast<std::int64_t>(bytes.size()), res.size.value_or(-1)) << res.uid;
            if (res.sha256) {
                EXPECT_EQ(util::sha256_hex(bytes), *res.sha256) << res.uid;
            }
            ++resources;
        }
    }
    EXPECT_EQ(emitted, crashed ? 1 : 2);
    EXPECT_GT(resources, 5);
    reliability::fault_summary(
        "s3_stop_mid_upload", 1, 2, emitted, 0, 0,
        std::string("first analysis ") +
            (crashed ? "crashed with S3 error" : "finished before the stop") +
            ", resources verified " + std::to_string(resources));
}

}  // namespace
