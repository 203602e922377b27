// karton/names.hpp — Redis key/channel names (spec §2.2, §10 consume order, §11.1) and
// connection names (§2.1): extended client names with form-URL-encoded parameters, their
// parsing, and identity validation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karton/errors.hpp"

namespace karton::names {

inline constexpr std::string_view kTasksQueue = "karton.tasks";
inline constexpr std::string_view kOperations = "karton.operations";
inline constexpr std::string_view kBinds = "karton.binds";
inline constexpr std::string_view kMetricProduced = "karton.metrics.produced";
inline constexpr std::string_view kMetricAssigned = "karton.metrics.assigned";
inline constexpr std::string_view kMetricConsumed = "karton.metrics.consumed";
inline constexpr std::string_view kMetricCrashed = "karton.metrics.crashed";
inline constexpr std::string_view kMetricGarbageCollected = "karton.metrics.garbage-collected";
inline constexpr std::string_view kTaskKeyPrefix = "karton.task:";

// task_key returns "karton.task:<uid>".
std::string task_key(std::string_view uid);
// task_uid_from_key strips "karton.task:"; nullopt when `key` lacks the prefix.
std::optional<std::string_view> task_uid_from_key(std::string_view key);
// queue_key returns "karton.queue.<priority>:<identity>" (`priority`: "high"/"normal"/"low").
std::string queue_key(std::string_view priority, std::string_view identity);
// consume_order returns the BLPOP key list of a consumer: the bare legacy queue <identity>,
// then the high, normal and low queues (queue-names.jsonl).
std::vector<std::string> consume_order(std::string_view identity);
// outputs_key returns "karton.outputs:<origin>" (§7.2 task tracking).
std::string outputs_key(std::string_view origin);
// log_channel returns "karton.log.<level lower-cased>.<logger>" (§11.1).
std::string log_channel(std::string_view level, std::string_view logger);
// tree_scan_pattern returns "karton.task:{<root_uid>}:*" (§4.4 analysis tree enumeration).
std::string tree_scan_pattern(std::string_view root_uid);

// is_valid_identity: no space and no '?' (§2.1).
bool is_valid_identity(std::string_view identity);
// validate_identity throws InvalidIdentityError naming the identity when it is invalid.
void validate_identity(std::string_view identity);

// ClientName is what an extended connection name carries.
struct ClientName {
    std::string identity;
    std::optional<std::string> karton_version;
    std::optional<std::string> service_version;
};

// format_client_name returns "<identity>?karton_version=<v>[&service_version=<s>]" with values
// form-URL-encoded (space -> '+', other reserved characters %XX; alnum and "_.-~" kept).
std::string format_client_name(std::string_view identity, std::string_view karton_version,
                               const std::optional<std::string>& service_version);
// parse_client_name splits at the first '?' and decodes the query (first value wins, unknown
// keys ignored, malformed %-escapes kept literally).
ClientName parse_client_name(std::string_view name);
// client_identity returns the name cut at the first '?' (liveness check, §2.1).
std::string_view client_identity(std::string_view name);

// form_url_encode / form_url_decode: application/x-www-form-urlencoded value coding
// (Python urllib.parse.quote_plus / unquote_plus on UTF-8).
std::string form_url_encode(std::string_view s);
std::string form_url_decode(std::string_view s);

}  // namespace karton::names
