// engine/native/record_writer.hpp — the native engine's single output layer: DRAKVUF JSON lines
// into <out>/drakmon.log (spec drakvuf-output.md §1.1 framing, §1.2 encodings, §1.3 common
// fields, §3 inject record). Monitors hand records to it through a RecordSink.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/native/record_sink.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"

namespace engine::native {

// format_timestamp renders Unix seconds as DRAKVUF's "<sec>.<exactly 6 digits>" (§1.2).
// Negative or non-finite input renders as "0.000000".
std::string format_timestamp(double unix_seconds);

// format_hex renders a number as DRAKVUF's hex string: "0x" + lower-case digits, no padding
// ("0x0" for zero) (§1.2).
std::string format_hex(std::uint64_t value);

// CommonFields: the trap-context fields of §1.3 (current format: no UserName).
struct CommonFields {
    std::int64_t pid = 0;
    std::int64_t ppid = 0;
    std::int64_t tid = 0;
    std::int64_t user_id = 1;  // Windows session id; Linux uid
    std::string process_name;
    std::string method;  // empty => JSON null (§1.2 Optional)
};

// RecordWriter appends one compact JSON record per line to a file, flushing every line with a
// single write(2) so concurrent writers never interleave. Invalid UTF-8 in strings is
// replaced by U+FFFD. Thread-safe.
class RecordWriter {
  public:
    // Opens (creates or appends to) `path`. `clock` supplies TimeStamps and must outlive the
    // writer. Throws util::SystemError when the file cannot be opened.
    RecordWriter(const std::filesystem::path& path, util::Clock& clock);
    RecordWriter(const RecordWriter&) = delete;
    RecordWriter& operator=(const RecordWriter&) = delete;

    // write serializes `record` compactly (key order preserved) and appends it as one line.
    // Throws util::SystemError on a write failure.
    void write(const nlohmann::ordered_json& record);

    // write_inject appends the §3 inject record in DRAKVUF's printf style (", " and ": "
    // separators). Same errors as write().
    void write_inject(const nlohmann::ordered_json& record);

    // make_record starts a typed record: "Plugin", "TimeStamp" (now), the §1.3 common fields
    // and a fresh "EventUID"; callers append plugin fields in spec order.
    nlohmann::ordered_json make_record(const std::string& plugin, const CommonFields& common);

    // timestamp returns the clock's current time formatted as a DRAKVUF TimeStamp.
    std::string timestamp();

    // next_event_uid returns the next per-run event counter as "0x…" (starts at "0x1").
    std::string next_event_uid();

    // next_event_number is next_event_uid() as a number (for monitors that format it
    // themselves); both draw from the same counter.
    std::uint64_t next_event_number() { return event_uid_.fetch_add(1) + 1; }

    // sink returns a RecordSink bound to this writer (it must outlive the sink). Errors
    // while writing through the sink are logged and the record is dropped.
    RecordSink sink();

    // records_written counts lines written so far.
    std::uint64_t records_written() const { return written_.load(); }

  private:
    void append_line(std::string line);

    util::UniqueFd fd_;
    util::Clock& clock_;
    std::mutex mu_;
    std::atomic<std::uint64_t> event_uid_{0};
    std::atomic<std::uint64_t> written_{0};
};

}  // namespace engine::native
