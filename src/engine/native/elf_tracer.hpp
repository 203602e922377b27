// engine/native/elf_tracer.hpp — the Linux ELF tracer behind `drak-trace-elf`: runs a program
// under ptrace with a libseccomp SCMP_ACT_TRACE filter, follows forks/clones/execs and emits
// DRAKVUF-format records: procmon (§2.1), filetracer (§2.3), socketmon (§2.7), syscall (§2.10)
// and memdump (§2.9/§6.1 via MemoryDumper). Mapping to DRAKVUF fields: docs/tracing.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/native/memory_dumper.hpp"
#include "engine/native/process_table.hpp"
#include "engine/native/record_sink.hpp"
#include "util/clock.hpp"

namespace engine::native {

struct ElfTracerOptions {
    std::vector<std::string> argv;  // argv[0] is the program path (PATH is not searched)
    std::vector<std::string> env;   // empty: the tracer's environment is inherited
    double timeout_seconds = 0;     // 0: no timeout; else the whole traced tree is SIGKILLed
    bool syscall_records = true;    // emit `syscall` records for every traced syscall
    // Supplies EventUID values (shared with MemoryDumper); nullptr = a private counter.
    std::function<std::uint64_t()> next_event_uid;
};

struct ElfTraceResult {
    int exit_code = 0;       // root program's exit status, 128+signal if killed, 124 on timeout
    bool timed_out = false;  // the timeout fired and the tree was killed
    std::uint64_t processes = 0;  // processes seen (root included)
};

// ElfTracer traces one program run. Not reusable: call run() once. run() waits for *any* child
// of the calling process (waitpid(-1)), so use it in a dedicated process such as drak-trace-elf,
// not inside a multi-threaded engine that has other children.
class ElfTracer {
  public:
    // All references must outlive the tracer. `dumper` receives exec-memory and exit dumps.
    ElfTracer(RecordSink sink, util::Clock& clock, ProcessTable& processes, MemoryDumper& dumper,
              ElfTracerOptions options);
    ElfTracer(const ElfTracer&) = delete;
    ElfTracer& operator=(const ElfTracer&) = delete;

    // run starts the program and traces it and all its descendants until every traced process
    // has exited (or the timeout killed them). Throws util::InputError for an empty argv and
    // util::SystemError if fork/ptrace/seccomp set-up fails. A program that cannot be executed
    // exits 127 (like a shell would).
    ElfTraceResult run();

  private:
    RecordSink sink_;
    util::Clock& clock_;
    ProcessTable& processes_;
    MemoryDumper& dumper_;
    ElfTracerOptions options_;
};

// dns_query_name extracts the first question name from a DNS query packet
// ("beacon.example.test"); nullopt if the packet is not a well-formed query. Pure.
std::optional<std::string> dns_query_name(std::string_view packet);

// windows_command_line joins argv the way procmon's CommandLine reads (arguments containing
// spaces, tabs or quotes are wrapped in double quotes, inner quotes backslash-escaped). Pure.
std::string windows_command_line(const std::vector<std::string>& argv);

}  // namespace engine::native
