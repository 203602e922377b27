#include "web/upload.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>

#include "util/error.hpp"
#include "util/fs.hpp"
#include "web/errors.hpp"

namespace drak_web {

namespace {

[[noreturn]] void fail(ErrorKind kind, const std::string& message) {
    throw ApiError(kind, message);
}

// announced_length: the Content-Length header as a number (nullopt when absent or malformed;
// httplib rejects a malformed one itself).
std::optional<std::uint64_t> announced_length(const httplib::Request& req) {
    if (!req.has_header("Content-Length")) return std::nullopt;
    const std::string v = req.get_header_value("Content-Length");
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return n;
}

}  // namespace

UploadForm read_upload(const httplib::Request& req, const httplib::ContentReader& reader,
                       const std::filesystem::path& sample_path, std::uint64_t max_file_bytes) {
    if (!req.is_multipart_form_data())
        fail(ErrorKind::BadRequest, "expected multipart/form-data with a 'file' field");
    const std::uint64_t max = max_file_bytes;
    // A body announced larger than the cap is refused now: letting the reader run would make
    // cpp-httplib drain all of it (10 GB take minutes) before anyone answers.
    if (auto len = announced_length(req); len && *len > upload_payload_limit(max))
        fail(ErrorKind::PayloadTooLarge,
             "file exceeds the upload limit of " + std::to_string(max) + " bytes");

    util::UniqueFd fd;
    std::string current;
    std::string uploaded_name;
    bool have_file = false, too_large = false, field_too_large = false, io_error = false;
    int spool_errno = 0;
    std::uint64_t file_bytes = 0, drained = 0;
    std::map<std::string, std::string> fields;

    bool ok = reader(
        [&](const httplib::MultipartFormData& part) {
            current = part.name;
            if (current == "file") {
                if (have_file) return false;  // one sample per upload
                have_file = true;
                uploaded_name = part.filename;
                fd.reset(
                    ::open(sample_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
                if (!fd) {
                    io_error = true;
                    spool_errno = errno;
                }
            } else if (fields.size() >= kMaxFormFields && !fields.count(current)) {
                field_too_large = true;
            } else {
                fields[current];  // present, possibly empty
            }
            return true;
        },
        [&](const char* data, std::size_t len) {
            if (current == "file") {
                if (too_large || file_bytes + len > max) {
                    too_large = true;
                    drained += len;
                    return drained < max;  // drain a little so the client reads our answer
                }
                file_bytes += len;
                if (!io_error) {
                    std::size_t done = 0;
                    while (done < len) {
                        ssize_t n = ::write(fd.get(), data + done, len - done);
                        if (n < 0 && errno == EINTR) continue;
                        if (n <= 0) {
                            io_error = true;
                            spool_errno = n < 0 ? errno : ENOSPC;
                            break;
                        }
                        done += static_cast<std::size_t>(n);
                    }
                }
                return true;
            }
            auto it = fields.find(current);
            if (it == fields.end()) return true;  // over the field count: already flagged
            if (it->second.size() + len > kMaxFormField) {
                field_too_large = true;
                return true;
            }
            it->second.append(data, len);
            return true;
        });
    fd.reset();
    if (too_large)
        fail(ErrorKind::PayloadTooLarge,
             "file exceeds the upload limit of " + std::to_string(max) + " bytes");
    if (!ok) fail(ErrorKind::BadRequest, "malformed multipart body");
    if (field_too_large) fail(ErrorKind::BadRequest, "form field too large or too many fields");
    if (io_error) throw util::SystemError("cannot spool the upload", spool_errno);
    if (!have_file) fail(ErrorKind::BadRequest, "missing form field 'file'");
    if (file_bytes == 0) fail(ErrorKind::BadRequest, "the uploaded file is empty");

    UploadForm form;
    form.file_bytes = file_bytes;
    const std::string name = fields.count("file_name") && !fields["file_name"].empty()
                                 ? fields["file_name"]
                                 : uploaded_name;
    auto valid = validate_upload_name(name);
    if (!valid) fail(ErrorKind::BadRequest, "invalid file_name");
    form.name = std::move(*valid);

    if (auto it = fields.find("timeout"); it != fields.end() && !it->second.empty()) {
        form.timeout = parse_timeout(it->second);
        if (!form.timeout) fail(ErrorKind::BadRequest, "timeout must be an integer 1..86400");
    }
    if (auto it = fields.find("plugins"); it != fields.end() && !it->second.empty()) {
        form.plugins = parse_plugins(it->second);
        if (!form.plugins)
            fail(ErrorKind::BadRequest, "plugins must be a JSON list of plugin names");
    }
    if (auto it = fields.find("start_command"); it != fields.end()) {
        form.start_command = it->second;
        if (!is_valid_start_command(form.start_command))
            fail(ErrorKind::BadRequest, "invalid start_command");
    }
    return form;
}

}  // namespace drak_web
