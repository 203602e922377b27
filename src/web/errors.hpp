// web/errors.hpp — the API's error categories and the single table mapping each one to an HTTP
// status (issue 7: "clear JSON errors with proper status codes"). Every failure a handler
// reports is an ApiError; the server turns it into `{"error": "<message>"}` with that status.
#pragma once

#include <string>

#include "util/error.hpp"

namespace drak_web {

// ErrorKind: what went wrong, independent of HTTP.
enum class ErrorKind {
    BadRequest,           // malformed parameter, form field or JSON (400)
    InvalidUid,           // not an analysis uid (400)
    Unauthorized,         // api_token configured and missing/wrong bearer token (401)
    NotFound,             // object, analysis or route does not exist (404)
    MethodNotAllowed,     // (405)
    PayloadTooLarge,      // upload above [web] upload_max_size (413)
    RangeNotSatisfiable,  // Range outside the object or more than one range (416)
    StorageUnavailable,   // S3 or Redis failed or unreachable (502)
    Internal,             // anything else (500)
};

// http_status maps a kind to its status code (the one table; see docs/web.md).
int http_status(ErrorKind kind);
// kind_name is a short stable name ("bad_request", ...) sent as "kind" next to "error".
const char* kind_name(ErrorKind kind);

// ApiError is thrown by request handling; `what()` is the message shown to the client, so it
// must never contain secrets or host paths.
class ApiError : public util::Error {
  public:
    ApiError(ErrorKind kind, const std::string& message) : util::Error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }
    int status() const { return http_status(kind_); }

  private:
    ErrorKind kind_;
};

// error_body renders `{"error": message, "kind": kind_name}`.
std::string error_body(ErrorKind kind, const std::string& message);

}  // namespace drak_web
