// Tests for postprocess/postprocess.hpp run(): the whole pipeline on the real capa lines plus
// the process-tree-demo fixtures and SYNTHETIC socketmon/tlsmon/fileextractor records (no real
// public lines exist for those plugins; shapes follow spec §2.4, §2.7, §2.8).
#include "postprocess/postprocess.hpp"

#include <gtest/gtest.h>

#include "support/paths.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;
using postprocess::StepState;

namespace {

const fs::path kFix = test_support::shared_dir() / "fixtures/drakvuf";
const fs::path kCapa = kFix / "capa-testfiles-93b2d184";

const char* kSynthetic =
    R"j({"Plugin":"socketmon","TimeStamp":"1716999140.000001","PID":4,"PPID":0,"TID":8,"UserName":"SessionID","UserId":0,"ProcessName":"System","Method":"TcpCreateAndConnectTcbComplete","EventUID":"0x10","Owner":"malware.exe","OwnerId":1,"OwnerPID":4852,"OwnerPPID":3532,"Protocol":"TCPv4","TcpState":"syn_sent","LocalIp":"10.13.0.100","LocalPort":49700,"RemoteIp":"93.184.216.34","RemotePort":443})j"
    "\n"
    R"j({"Plugin":"socketmon","TimeStamp":"1716999140.000002","PID":4,"PPID":0,"TID":8,"UserName":"SessionID","UserId":0,"ProcessName":"System","Method":"UdpSendMessages","EventUID":"0x11","Owner":"malware.exe","OwnerId":1,"OwnerPID":4852,"OwnerPPID":3532,"Protocol":"UDPv4","LocalIp":"10.13.0.1","LocalPort":53})j"
    "\n"
    R"j({"Plugin":"socketmon","TimeStamp":"1716999140.000003","PID":4852,"PPID":3532,"TID":9,"UserName":"SessionID","UserId":1,"ProcessName":"malware.exe","Method":"DnsQuery_W","EventUID":"0x12","DnsName":"evil.example.com"})j"
    "\n"
    R"j({"Plugin":"tlsmon","TimeStamp":"1716999140.000004","PID":600,"PPID":500,"TID":1,"UserName":"SessionID","UserId":0,"ProcessName":"lsass.exe","Method":"SslGenerateMasterKey","EventUID":"0x13","client_random":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","master_key":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"})j"
    "\n"
    R"j({"Plugin":"fileextractor","TimeStamp":"1716999141.000000","PID":4852,"PPID":3532,"TID":9,"UserName":"SessionID","UserId":1,"ProcessName":"malware.exe","Method":"NtClose","EventUID":"0x14","FileName":"\\??\\C:\\Users\\litter\\AppData\\drop.exe","Size":0,"Flags":"0x0","FlagsExpanded":"(null)","SeqNum":0,"Reason":"WriteFile"})j"
    "\n"
    R"j({"Plugin":"regmon","TimeStamp":"1716999141.000001","PID":4852,"PPID":3532,"TID":9,"UserName":"SessionID","UserId":1,"ProcessName":"malware.exe","Method":"NtSetValueKey","EventUID":"0x15","Key":"\\REGISTRY\\USER\\S-1-5-21\\Software\\Microsoft\\Windows\\CurrentVersion\\Run","ValueName":"evil","Value":"C:\\drop.exe"})j"
    "\n"
    "Failed to trap return at 0x7ff0\n";

void make_analysis_dir(const fs::path& dir) {
    std::string log;
    for (const char* p : {"apimon", "syscall", "sysret", "procmon", "inject"}) {
        log += util::read_file(kCapa / (std::string(p) + ".jsonl"));
    }
    log += util::read_file(kFix / "process-tree-demo/filetracer.jsonl");
    log += util::read_file(kFix / "process-tree-demo/regmon.jsonl");
    log += kSynthetic;
    util::write_file_atomic(dir / "drakmon.log", log);
    fs::create_directory(dir / "dumps");
    util::write_file_atomic(dir / "dumps" / "405000_0123456789abcdef", std::string(4096, 'M'));
    util::write_file_atomic(dir / "dumps" / "memdump.000001.metadata", "{ \"Method\": \"x\" }");
    util::write_file_atomic(dir / "metadata.json",
                            R"({"analysis_uid": "abc", "time_started": 1716999130.25})");
}

Json state_map(const postprocess::Summary& s) {
    Json j = Json::object();
    for (const auto& st : s.steps) {
        j[st.name] = postprocess::to_string(st.state);
    }
    return j;
}

}  // namespace

TEST(Run, FullPipelineProducesEveryArtifact) {
    util::TempDir tmp("post-run");
    make_analysis_dir(tmp.path());
    std::vector<std::string> progress;
    auto summary =
        postprocess::run(tmp.path(), postprocess::Options{},
                         [&](size_t, size_t, const std::string& n) { progress.push_back(n); });
    EXPECT_TRUE(summary.all_ok());
    EXPECT_EQ(state_map(summary), Json({{"split_drakmon_log", "ok"},
                                        {"process_apimon_log", "ok"},
                                        {"generate_wireshark_key_file", "ok"},
                                        {"build_process_tree", "ok"},
                                        {"crop_dumps", "ok"},
                                        {"index_logs", "ok"},
                                        {"merge_metadata", "ok"},
                                        {"write_report", "ok"}}));
    EXPECT_EQ(progress.size(), postprocess::steps().size());
    const fs::path& d = tmp.path();
    EXPECT_FALSE(fs::exists(d / "drakmon.log"));  // deleted like upstream by default
    EXPECT_EQ(util::read_file(d / "procmon.log"), util::read_file(kCapa / "procmon.jsonl"));
    EXPECT_EQ(util::read_file(d / "process_tree.json"),
              util::read_file(kCapa / "expected-v0.19.0-alpha1/process_tree.json"));
    EXPECT_EQ(util::read_file(d / "apicall" / "4852.json"),
              util::read_file(kCapa / "expected-v0.19.0-alpha1/apicall/4852.json"));
    EXPECT_EQ(util::read_file(d / "index" / "apimon.log.json"),
              util::read_file(kCapa / "expected-v0.19.0-alpha1/index/apimon.log.json"));
    EXPECT_TRUE(fs::exists(d / "index" / "parse_errors.log.json"));
    EXPECT_EQ(util::read_file(d / "parse_errors.log"), "Failed to trap return at 0x7ff0\n");
    EXPECT_EQ(util::read_file(d / "wireshark_key_file.txt").substr(0, 14), "CLIENT_RANDOM ");
    EXPECT_TRUE(fs::exists(d / "dumps.zip"));
    EXPECT_TRUE(fs::is_empty(d / "dumps"));
    EXPECT_EQ(util::read_file(d / "metadata.json"),
              R"({"analysis_uid": "abc", "time_started": 1716999130.25, "dumps_metadata": )"
              R"([{"filename": "dumps/405000_0123456789abcdef", "base_address": "0x405000"}]})");

    const Json report = Json::parse(util::read_file(d / "report.json"));
    EXPECT_EQ(report["version"], 1);
    EXPECT_EQ(report["plugins"]["apimon"], 1000);
    EXPECT_EQ(report["plugins"]["socketmon"], 3);
    EXPECT_EQ(report["parse_errors"]["total"], 1);
    EXPECT_EQ(report["parse_errors"]["by_plugin"]["unknown"], 1);
    bool found_dllhost = false;
    for (const auto& p : report["processes"]) {
        if (p["pid"] == 5388) {
            found_dllhost = true;
            EXPECT_EQ(p["ppid"], 772);
            EXPECT_EQ(p["name"], "C:\\Windows\\system32\\DllHost.exe");
            EXPECT_EQ(p["command_line"],
                      "C:\\Windows\\system32\\DllHost.exe "
                      "/Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}");
            EXPECT_EQ(p["start"], 1716999135.788041);
            EXPECT_TRUE(p["end"].is_null());
        }
        EXPECT_NE(p["name"], "Mocked parent");
    }
    EXPECT_TRUE(found_dllhost);
    EXPECT_EQ(report["files"]["written"],
              Json::parse(R"([{"path": "\\??\\C:\\Users\\litter\\AppData\\drop.exe", "pid": 4852,)"
                          R"( "source": "fileextractor"}])"));
    ASSERT_EQ(report["registry"]["set"].size(), 1u);
    EXPECT_EQ(report["registry"]["set"][0]["value_name"], "evil");
    EXPECT_EQ(report["network"]["dns"],
              Json::parse(R"([{"name": "evil.example.com", "pid": 4852}])"));
    ASSERT_EQ(report["network"]["endpoints"].size(), 2u);
    EXPECT_EQ(report["network"]["endpoints"][0]["ip"], "93.184.216.34");
    EXPECT_EQ(report["network"]["endpoints"][0]["port"], 443);
    EXPECT_EQ(report["network"]["endpoints"][1]["ip"], "10.13.0.1");  // legacy UDP quirk
    EXPECT_EQ(report["dumps"]["count"], 1);
}

TEST(Run, SecondRunSkipsDoneStepsAndFailuresDoNotStopThePipeline) {
    util::TempDir tmp("post-run");
    make_analysis_dir(tmp.path());
    postprocess::Options opts;
    opts.keep_drakmon_log = true;
    ASSERT_TRUE(postprocess::run(tmp.path(), opts).all_ok());
    EXPECT_TRUE(fs::exists(tmp.path() / "drakmon.log"));
    util::write_file_atomic(tmp.path() / "metadata.json", "not json");
    opts.force = true;
    auto summary = postprocess::run(tmp.path(), opts);
    EXPECT_FALSE(summary.all_ok());
    const Json states = state_map(summary);
    EXPECT_EQ(states["merge_metadata"], "failed");
    EXPECT_EQ(states["write_report"], "ok");  // ran after the failure
    // Without force, existing outputs are kept.
    fs::remove(tmp.path() / "drakmon.log");
    auto again = postprocess::run(tmp.path(), postprocess::Options{});
    const Json s2 = state_map(again);
    EXPECT_EQ(s2["split_drakmon_log"], "skipped_missing_input");
    EXPECT_EQ(s2["build_process_tree"], "skipped_already_done");
    EXPECT_EQ(s2["index_logs"], "skipped_already_done");
    EXPECT_EQ(s2["crop_dumps"], "skipped_already_done");
    EXPECT_EQ(s2["write_report"], "ok");
    const Json report = Json::parse(util::read_file(tmp.path() / "report.json"));
    // Counts are recomputed from the split files when split did not run.
    EXPECT_EQ(report["plugins"]["procmon"], 1000);
    EXPECT_EQ(report["parse_errors"]["total"], 1);
}

TEST(Run, EmptyDirectoryAndBadDirectory) {
    util::TempDir tmp("post-run");
    auto summary = postprocess::run(tmp.path(), postprocess::Options{});
    EXPECT_TRUE(summary.all_ok());
    EXPECT_EQ(summary.steps[0].state, StepState::SkippedMissingInput);
    EXPECT_EQ(summary.steps[0].message, "missing drakmon.log");
    EXPECT_THROW(postprocess::run(tmp.path() / "nope", postprocess::Options{}), util::InputError);
}

TEST(Run, ZeroByteDrakmonLog) {
    util::TempDir tmp("post-run");
    util::write_file_atomic(tmp.path() / "drakmon.log", "");
    auto summary = postprocess::run(tmp.path(), postprocess::Options{});
    EXPECT_TRUE(summary.all_ok());
    const Json report = Json::parse(util::read_file(tmp.path() / "report.json"));
    EXPECT_TRUE(report["processes"].empty());
    EXPECT_TRUE(report["plugins"].empty());
}

TEST(Run, EveryFixtureFileRoundTripsThroughTheWholePipeline) {
    size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(kFix)) {
        if (e.path().extension() != ".jsonl") {
            continue;
        }
        ++files;
        SCOPED_TRACE(e.path().string());
        util::TempDir tmp("post-fix");
        const std::string input = util::read_file(e.path());
        util::write_file_atomic(tmp.path() / "drakmon.log", input);
        auto summary = postprocess::run(tmp.path(), postprocess::Options{});
        EXPECT_TRUE(summary.all_ok());
        EXPECT_FALSE(fs::exists(tmp.path() / "parse_errors.log"));
        // One plugin per fixture file; its split log is the Python re-encoding of the input.
        const std::string plugin = Json::parse(input.substr(0, input.find('\n')))["Plugin"];
        const std::string out = util::read_file(tmp.path() / (plugin + ".log"));
        if (e.path().parent_path().filename() == "sandbox-docs" && plugin == "procmon") {
            EXPECT_NE(out, input);  // raw DRAKVUF spacing is re-encoded
            EXPECT_EQ(out.find("{\"Plugin\": \"procmon\", \"TimeStamp\": "), 0u);
        } else {
            EXPECT_EQ(out, input);  // already in sandbox (Python) form
        }
        EXPECT_TRUE(fs::exists(tmp.path() / "index" / (plugin + ".log.json")));
        if (plugin == "procmon") {
            EXPECT_TRUE(fs::exists(tmp.path() / "process_tree.json"));
        }
        if (plugin == "apimon") {
            EXPECT_TRUE(fs::exists(tmp.path() / "apicall"));
        }
        const Json report = Json::parse(util::read_file(tmp.path() / "report.json"));
        EXPECT_EQ(report["plugins"][plugin], std::count(input.begin(), input.end(), '\n'));
    }
    EXPECT_EQ(files, 10u);
}
