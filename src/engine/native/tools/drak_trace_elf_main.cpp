// drak-trace-elf — run PROGRAM under the ELF tracer and write DRAKVUF-format JSON lines
// (engine/native/elf_tracer.hpp; docs/tracing.md). Exit status: the program's own status,
// 128+signal if it was killed, 124 on timeout, 125 on a tracer failure, 127 if it cannot run.
#include <sys/prctl.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>

#include <CLI/CLI.hpp>

#include "engine/native/elf_tracer.hpp"
#include "engine/native/memory_dumper.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/logging.hpp"

int main(int argc, char** argv) {
    CLI::App app{"drak-trace-elf: trace a Linux program into DRAKVUF-format records"};
    std::string output;
    std::string dumps_dir;
    double timeout = 0;
    bool no_syscalls = false;
    std::vector<std::string> program;
    app.add_option("--output", output, "drakmon.log-style output file (JSON lines)")->required();
    app.add_option("--dumps-dir", dumps_dir, "memory dump directory")->required();
    app.add_option("--timeout", timeout, "seconds before the whole traced tree is killed")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--no-syscall-records", no_syscalls, "do not emit `syscall` records");
    app.add_option("program", program, "PROGRAM ARGS... (after --)")->required();
    CLI11_PARSE(app, argc, argv);

    try {
        // Orphans of the traced tree re-parent to us, so we reap every process before exiting
        // ("nothing left" after a timeout), even where pid 1 reaps lazily.
        if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
            throw util::SystemError("prctl(PR_SET_CHILD_SUBREAPER)", errno);
        }
        std::ofstream out(output, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw util::SystemError("open " + output, errno);
        }
        std::mutex out_mu;
        auto sink = [&](nlohmann::ordered_json rec) {
            std::string line =
                rec.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
            std::lock_guard<std::mutex> lock(out_mu);
            out << line << '\n';
            out.flush();
        };
        std::atomic<std::uint64_t> event_uid{0};
        auto next_uid = [&event_uid] { return ++event_uid; };
        engine::native::MemoryDumperOptions dump_opts;
        dump_opts.next_event_uid = next_uid;
        engine::native::MemoryDumper dumper(dumps_dir, sink, util::system_clock(), dump_opts);
        engine::native::ProcessTable table;
        engine::native::ElfTracerOptions opts;
        opts.argv = program;
        opts.timeout_seconds = timeout;
        opts.syscall_records = !no_syscalls;
        opts.next_event_uid = next_uid;
        engine::native::ElfTracer tracer(sink, util::system_clock(), table, dumper, opts);
        auto result = tracer.run();
        if (result.timed_out) {
            util::logger("drak-trace-elf")->warn("timeout after {} s: traced tree killed", timeout);
        }
        return result.exit_code;
    } catch (const util::Error& e) {
        util::logger("drak-trace-elf")->error("{}", e.what());
        return 125;
    }
}
