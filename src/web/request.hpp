// web/request.hpp — validation of everything a client sends to the API (issue 7 "Security"):
// HTTP Range headers (single range, RFC 9110 §14), analysis uids, log and artifact names,
// upload form fields (file name as the worker validates it, timeout, plugins, start command).
// Pure functions: no I/O, so they are unit-tested directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drak_web {

// ByteRange is an inclusive byte interval [first, last] inside an object.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t length() const { return last - first + 1; }
};

// RangeRequest is what a Range header asks for against an object of a known size.
struct RangeRequest {
    enum class Kind { Whole, Partial, Unsatisfiable };
    Kind kind = Kind::Whole;
    ByteRange range;     // Partial only
    std::string reason;  // Unsatisfiable only
};

// parse_range resolves a Range header value against `size`: absent/empty or a unit other than
// "bytes" -> Whole (RFC: ignore); "bytes=a-b", "bytes=a-", "bytes=-n" -> Partial clipped to
// the object; a first byte at/after the end, an empty object, multiple ranges or malformed
// syntax -> Unsatisfiable with a reason.
RangeRequest parse_range(std::string_view header, std::uint64_t size);

// is_safe_artifact_name: names used inside object keys for log types and processed files
// ("procmon", "process_tree", "parse_errors"): 1..64 of [A-Za-z0-9_-] (dots are refused so a
// name can never walk or hit another suffix).
bool is_safe_artifact_name(std::string_view name);

// is_pid_text: 1..10 decimal digits.
bool is_pid_text(std::string_view s);

// UploadName is the validated sample name split like the original upload: `base` = the name
// without its extension, `extension` = the text after the last dot (case kept, "" if none).
struct UploadName {
    std::string full;
    std::string base;
    std::string extension;
};

// validate_upload_name applies the worker's file-name rule (drakrun::is_safe_file_name) and
// accepts an extension only when it is 1..10 ASCII letters/digits; nullopt otherwise.
std::optional<UploadName> validate_upload_name(std::string_view name);

// parse_timeout: a decimal integer 1..86400 seconds (the worker applies its own cap);
// nullopt when malformed.
std::optional<int> parse_timeout(std::string_view text);

// parse_plugins: a JSON list of 0..64 plugin names ([a-z0-9_]{1,32}); nullopt when the text is
// not such a list.
std::optional<std::vector<std::string>> parse_plugins(std::string_view text);

// is_valid_start_command: at most 4096 bytes, no NUL/CR/LF.
bool is_valid_start_command(std::string_view text);

// root_of_task_uid returns R for a Karton 5 task uid "{R}:X" (the analysis uid of an upload),
// nullopt for any other shape.
std::optional<std::string> root_of_task_uid(std::string_view uid);

}  // namespace drak_web
