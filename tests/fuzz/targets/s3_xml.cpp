// Fuzz target s3_xml: the S3 XML response parsers (s3/internal/xml.hpp: errors, ListObjectsV2,
// ListObjectVersions, DeleteObjects result, multipart initiate/complete). The first byte picks
// the parser, the rest is the body. Documented errors: util::Error subclasses (S3Error).
#include "s3/internal/xml.hpp"
#include "targets.hpp"
#include "util/error.hpp"

namespace fuzz {

int fuzz_s3_xml(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view body = as_text(data + 1, size - 1);
    try {
        switch (data[0] % 7) {
            case 0:
                (void)s3::internal::parse_error(body);
                break;
            case 1:
                (void)s3::internal::root_name(body);
                break;
            case 2:
                (void)s3::internal::parse_list_v2(body);
                break;
            case 3:
                (void)s3::internal::parse_list_versions(body);
                break;
            case 4:
                (void)s3::internal::parse_delete_result(body);
                break;
            case 5:
                (void)s3::internal::parse_upload_id(body);
                break;
            default:
                (void)s3::internal::parse_complete_multipart(body);
                break;
        }
    } catch (const util::Error&) {
    }
    return 0;
}

}  // namespace fuzz
