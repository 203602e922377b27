// integration/web/seed_analysis.hpp — builds a finished analysis for drak-web tests from real
// DRAKVUF output (shared/fixtures/drakvuf/capa-testfiles-93b2d184): the fixture's records are
// joined into drakmon.log, our postprocess::run() produces the artifact set (split logs,
// index, process tree, apicall/, report.json), a metadata.json and a small pcap + TLS key file
// are added, everything is uploaded to `<bucket>/<uid>/...` and the status record set to
// finished — the state the worker leaves behind. Header-only; shared with bench/web.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "drakrun/status.hpp"
#include "karton/redis.hpp"
#include "postprocess/postprocess.hpp"
#include "s3/client.hpp"
#include "util/crypto.hpp"
#include "util/fs.hpp"

namespace web_test {

// kSeedPcap: a real libpcap file header plus one 60-byte Ethernet frame record.
inline std::string seed_pcap() {
    std::string p;
    auto u32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) p.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    };
    auto u16 = [&](std::uint16_t v) {
        p.push_back(static_cast<char>(v & 0xff));
        p.push_back(static_cast<char>(v >> 8));
    };
    u32(0xa1b2c3d4);
    u16(2);
    u16(4);
    u32(0);
    u32(0);
    u32(65535);
    u32(1);
    u32(1716999135);
    u32(0);
    u32(60);
    u32(60);
    for (int i = 0; i < 60; ++i) p.push_back(static_cast<char>(i));
    return p;
}

// build_analysis_dir fills `dir` with a postprocessed analysis of the capa fixture.
// `index_chunk` small values give multi-chunk log indexes.
inline void build_analysis_dir(const std::filesystem::path& shared_dir,
                               const std::filesystem::path& dir, const std::string& uid,
                               std::uint64_t index_chunk = 65536) {
    auto fixture = shared_dir / "fixtures/drakvuf/capa-testfiles-93b2d184";
    std::filesystem::create_directories(dir);
    {
        std::ofstream out(dir / "drakmon.log", std::ios::binary);
        for (const char* f :
             {"inject.jsonl", "procmon.jsonl", "apimon.jsonl", "syscall.jsonl", "sysret.jsonl"})
            out << util::read_file(fixture / f);
    }
    postprocess::Options opts;
    opts.index_chunk_size = index_chunk;
    postprocess::run(dir, opts);
    nlohmann::ordered_json meta;
    meta["analysis_uid"] = uid;
    meta["sample_sha256"] = util::sha256_hex(util::read_file(fixture / "procmon.jsonl"));
    meta["snapshot_sha256"] = std::string(64, '0');
    meta["magic_output"] = "PE32 executable (GUI) Intel 80386, for MS Windows";
    meta["time_started"] = 1716999130.25;
    meta["time_finished"] = 1716999250.5;
    meta["start_command"] = "start C:\\Users\\user\\Desktop\\sample.exe";
    std::ofstream(dir / "metadata.json") << meta.dump();
    util::write_file_atomic(dir / "dump.pcap", seed_pcap());
    util::write_file_atomic(dir / "wireshark_key_file.txt", "CLIENT_RANDOM 00112233 44556677\n");
    util::write_file_atomic(dir / "drakrun.log", "analysis finished\n");
}

// upload_analysis puts every regular file of `dir` under `<bucket>/<uid>/<relative path>`.
inline void upload_analysis(s3::S3Client& s3c, const std::string& bucket, const std::string& uid,
                            const std::filesystem::path& dir) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        auto rel = std::filesystem::relative(e.path(), dir).generic_string();
        if (rel == "drakmon.log") continue;
        s3c.put_file(bucket, uid + "/" + rel, e.path());
    }
}

// mark_finished writes the worker's final status record.
inline void mark_finished(karton::Connection& redis, const std::string& uid,
                          const std::filesystem::path& dir) {
    drakrun::StatusStore store(redis);
    store.create_pending(uid);
    auto meta = nlohmann::ordered_json::parse(util::read_file(dir / "metadata.json"));
    store.set(uid, drakrun::AnalysisState::Finished, meta);
}

}  // namespace web_test
