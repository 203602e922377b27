#include "web/errors.hpp"

#include <nlohmann/json.hpp>

namespace drak_web {

namespace {
struct Row {
    ErrorKind kind;
    int status;
    const char* name;
};
// The single category -> status table.
constexpr Row kTable[] = {
    {ErrorKind::BadRequest, 400, "bad_request"},
    {ErrorKind::InvalidUid, 400, "invalid_uid"},
    {ErrorKind::Unauthorized, 401, "unauthorized"},
    {ErrorKind::NotFound, 404, "not_found"},
    {ErrorKind::MethodNotAllowed, 405, "method_not_allowed"},
    {ErrorKind::PayloadTooLarge, 413, "payload_too_large"},
    {ErrorKind::RangeNotSatisfiable, 416, "range_not_satisfiable"},
    {ErrorKind::StorageUnavailable, 502, "storage_unavailable"},
    {ErrorKind::Internal, 500, "internal"},
};
const Row& row(ErrorKind k) {
    for (const auto& r : kTable)
        if (r.kind == k) return r;
    return kTable[sizeof(kTable) / sizeof(kTable[0]) - 1];
}
}  // namespace

int http_status(ErrorKind kind) { return row(kind).status; }
const char* kind_name(ErrorKind kind) { return row(kind).name; }

std::string error_body(ErrorKind kind, const std::string& message) {
    nlohmann::ordered_json j;
    j["error"] = message;
    j["kind"] = kind_name(kind);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace drak_web
