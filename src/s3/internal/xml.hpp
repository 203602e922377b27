// s3/internal/xml.hpp — pure parsers and builders for the S3 XML documents the client uses
// (Error, ListBucketResult v2, ListVersionsResult, DeleteResult, multipart). Hostile or
// malformed XML throws util::InputError; nothing here does I/O. Spec §13, §9.2.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3/types.hpp"

namespace s3::internal {

// ErrorBody is the content of an S3 <Error> document.
struct ErrorBody {
    std::string code{};
    std::string message{};
    std::string request_id{};
};

// parse_error returns the <Error> fields, or nullopt when `body` is not an S3 error document.
// Never throws.
std::optional<ErrorBody> parse_error(std::string_view body);

// root_name returns the name of the document element; throws util::InputError on bad XML.
std::string root_name(std::string_view body);

// parse_list_v2 reads a ListObjectsV2 page (<ListBucketResult>); keys are url-decoded when
// the answer says <EncodingType>url</EncodingType>.
ListPage parse_list_v2(std::string_view body);

// parse_list_versions reads a <ListVersionsResult> page (versions and delete markers, in
// document order).
VersionsPage parse_list_versions(std::string_view body);

// parse_delete_result reads a <DeleteResult> (Deleted and Error entries).
DeleteResult parse_delete_result(std::string_view body);

// parse_upload_id reads <InitiateMultipartUploadResult><UploadId>.
std::string parse_upload_id(std::string_view body);

// parse_complete_multipart returns the unquoted <ETag> of a <CompleteMultipartUploadResult>;
// throws util::InputError for anything else (S3 may answer 200 with an <Error> body).
std::string parse_complete_multipart(std::string_view body);

// build_delete_body renders <Delete><Object><Key>..</Key>[<VersionId>..</VersionId>]</Object>
// ...</Delete>. Throws util::InputError for keys XML 1.0 cannot carry (control characters).
std::string build_delete_body(const std::vector<ObjectId>& objects);

// build_complete_multipart renders <CompleteMultipartUpload> from (part number, etag) pairs.
std::string build_complete_multipart(const std::vector<std::pair<int, std::string>>& parts);

}  // namespace s3::internal
