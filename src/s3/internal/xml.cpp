#include "s3/internal/xml.hpp"

#include <charconv>
#include <pugixml.hpp>
#include <sstream>

#include "s3/sigv4.hpp"
#include "util/error.hpp"

namespace s3::internal {

namespace {

pugi::xml_document load(std::string_view body, std::string_view what) {
    pugi::xml_document doc;
    pugi::xml_parse_result r =
        doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!r) {
        throw util::InputError("malformed XML in S3 " + std::string(what) + " answer: " +
                               r.description() + " at offset " + std::to_string(r.offset));
    }
    if (!doc.document_element()) {
        throw util::InputError("empty XML document in S3 " + std::string(what) + " answer");
    }
    return doc;
}

pugi::xml_node expect_root(const pugi::xml_document& doc, const char* name) {
    pugi::xml_node root = doc.document_element();
    if (std::string_view(root.name()) != name) {
        throw util::InputError(std::string("S3 answer has root <") + root.name() + ">, expected <" +
                               name + ">");
    }
    return root;
}

std::string text(pugi::xml_node parent, const char* name) {
    return parent.child(name).text().get();
}

uint64_t number(pugi::xml_node parent, const char* name) {
    pugi::xml_node n = parent.child(name);
    if (!n) {
        return 0;
    }
    std::string_view s = n.text().get();
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) {
        throw util::InputError(std::string("S3 answer has a bad <") + name + ">: '" +
                               std::string(s.substr(0, 64)) + "'");
    }
    return v;
}

bool flag(pugi::xml_node parent, const char* name) { return text(parent, name) == "true"; }

std::string strip_quotes(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        return s.substr(1, s.size() - 2);
    }
    return s;
}

bool url_encoded(pugi::xml_node root) { return text(root, "EncodingType") == "url"; }

// With encoding-type=url S3 encodes keys like a form (space as '+'); botocore decodes them
// with unquote_plus, and so do we.
std::string key_of(pugi::xml_node parent, const char* name, bool encoded) {
    std::string k = text(parent, name);
    return encoded ? uri_decode(k, true) : k;
}

void check_xml_text(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            throw util::InputError("S3 key contains a control character XML cannot carry");
        }
    }
}

std::string render(const pugi::xml_document& doc) {
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw, pugi::encoding_utf8);
    return out.str();
}

}  // namespace

std::optional<ErrorBody> parse_error(std::string_view body) {
    if (body.empty()) {
        return std::nullopt;
    }
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) {
        return std::nullopt;
    }
    pugi::xml_node root = doc.document_element();
    if (std::string_view(root.name()) != "Error") {
        return std::nullopt;
    }
    return ErrorBody{.code = text(root, "Code"),
                     .message = text(root, "Message"),
                     .request_id = text(root, "RequestId")};
}

std::string root_name(std::string_view body) {
    auto doc = load(body, "");
    return doc.document_element().name();
}

ListPage parse_list_v2(std::string_view body) {
    auto doc = load(body, "ListObjectsV2");
    pugi::xml_node root = expect_root(doc, "ListBucketResult");
    bool encoded = url_encoded(root);
    ListPage page;
    page.truncated = flag(root, "IsTruncated");
    page.next_continuation_token = text(root, "NextContinuationToken");
    for (pugi::xml_node c : root.children("Contents")) {
        page.objects.push_back(ObjectInfo{.key = key_of(c, "Key", encoded),
                                          .size = number(c, "Size"),
                                          .etag = strip_quotes(text(c, "ETag")),
                                          .last_modified = text(c, "LastModified")});
    }
    if (page.truncated && page.next_continuation_token.empty()) {
        throw util::InputError("S3 ListObjectsV2 page is truncated but has no continuation token");
    }
    return page;
}

VersionsPage parse_list_versions(std::string_view body) {
    auto doc = load(body, "ListObjectVersions");
    pugi::xml_node root = expect_root(doc, "ListVersionsResult");
    bool encoded = url_encoded(root);
    VersionsPage page;
    page.truncated = flag(root, "IsTruncated");
    page.next_key_marker = key_of(root, "NextKeyMarker", encoded);
    page.next_version_id_marker = text(root, "NextVersionIdMarker");
    for (pugi::xml_node c : root.children()) {
        std::string_view name = c.name();
        bool marker = name == "DeleteMarker";
        if (!marker && name != "Version") {
            continue;
        }
        page.versions.push_back(ObjectVersion{.key = key_of(c, "Key", encoded),
                                              .version_id = text(c, "VersionId"),
                                              .is_latest = flag(c, "IsLatest"),
                                              .is_delete_marker = marker,
                                              .size = marker ? 0 : number(c, "Size")});
    }
    if (page.truncated && page.next_key_marker.empty()) {
        throw util::InputError("S3 ListObjectVersions page is truncated but has no key marker");
    }
    return page;
}

DeleteResult parse_delete_result(std::string_view body) {
    auto doc = load(body, "DeleteObjects");
    pugi::xml_node root = expect_root(doc, "DeleteResult");
    DeleteResult out;
    for (pugi::xml_node d : root.children("Deleted")) {
        out.deleted.push_back(ObjectId{.key = text(d, "Key"), .version_id = text(d, "VersionId")});
    }
    for (pugi::xml_node e : root.children("Error")) {
        out.errors.push_back(DeleteError{.key = text(e, "Key"),
                                         .version_id = text(e, "VersionId"),
                                         .code = text(e, "Code"),
                                         .message = text(e, "Message")});
    }
    return out;
}

std::string parse_upload_id(std::string_view body) {
    auto doc = load(body, "CreateMultipartUpload");
    pugi::xml_node root = expect_root(doc, "InitiateMultipartUploadResult");
    std::string id = text(root, "UploadId");
    if (id.empty()) {
        throw util::InputError("S3 CreateMultipartUpload answer has no <UploadId>");
    }
    return id;
}

std::string parse_complete_multipart(std::string_view body) {
    auto doc = load(body, "CompleteMultipartUpload");
    if (auto err = parse_error(body)) {
        throw util::InputError("CompleteMultipartUpload failed: " + err->code + ": " +
                               err->message);
    }
    pugi::xml_node root = expect_root(doc, "CompleteMultipartUploadResult");
    return strip_quotes(text(root, "ETag"));
}

std::string build_delete_body(const std::vector<ObjectId>& objects) {
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    pugi::xml_node root = doc.append_child("Delete");
    root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
    for (const auto& o : objects) {
        check_xml_text(o.key);
        check_xml_text(o.version_id);
        pugi::xml_node obj = root.append_child("Object");
        obj.append_child("Key").text().set(o.key.c_str());
        if (!o.version_id.empty()) {
            obj.append_child("VersionId").text().set(o.version_id.c_str());
        }
    }
    return render(doc);
}

std::string build_complete_multipart(const std::vector<std::pair<int, std::string>>& parts) {
    pugi::xml_document doc;
    pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
    root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
    for (const auto& [number, etag] : parts) {
        pugi::xml_node p = root.append_child("Part");
        p.append_child("PartNumber").text().set(number);
        p.append_child("ETag").text().set(("\"" + etag + "\"").c_str());
    }
    return render(doc);
}

}  // namespace s3::internal
