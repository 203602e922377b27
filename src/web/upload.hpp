// web/upload.hpp — reading a POST /upload multipart body (docs/web.md "Uploads"): the callbacks
// given to cpp-httplib's multipart ContentReader, spooling the `file` part to disk under a byte
// cap and collecting the small form fields, then validating them. drak-web's handler and the
// `multipart` fuzz target (tests/fuzz/targets/multipart.cpp) both call read_upload, so the
// fuzzer drives the code path the server runs. No Redis/S3 here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include "web/request.hpp"

namespace drak_web {

// kMaxFormField caps each non-file form field; kMaxFormFields caps their number.
inline constexpr std::size_t kMaxFormField = 64 * 1024;
inline constexpr std::size_t kMaxFormFields = 16;

// upload_payload_limit is the whole-body cap for a file cap (file + room for the small fields
// and the multipart framing); bodies announcing more are refused before a byte is read.
inline std::uint64_t upload_payload_limit(std::uint64_t max_file_bytes) {
    return max_file_bytes + kMaxFormField * 8;
}

// UploadForm: a validated upload (the sample itself is the file at the spool path).
struct UploadForm {
    UploadName name;                                  // file_name field, else the part's name
    std::uint64_t file_bytes = 0;                     // bytes written to the spool file
    std::optional<int> timeout;                       // 1..86400
    std::optional<std::vector<std::string>> plugins;  // [a-z0-9_]{1,32}, at most 64
    std::string start_command;                        // empty when absent
};

// read_upload reads the multipart body of `req` through `reader`, writing the `file` part to
// `sample_path` (created O_EXCL, mode 0600) while counting it against `max_file_bytes`.
// Throws ApiError: PayloadTooLarge (Content-Length over upload_payload_limit, checked before
// reading; or the file part over the cap, after draining a little so the client reads the
// answer), BadRequest (not multipart, malformed body, missing/empty/duplicate file, oversized
// or too many fields, invalid name/timeout/plugins/start_command); util::SystemError when the
// spool file cannot be written.
UploadForm read_upload(const httplib::Request& req, const httplib::ContentReader& reader,
                       const std::filesystem::path& sample_path, std::uint64_t max_file_bytes);

}  // namespace drak_web
