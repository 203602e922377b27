// karton/bind.cpp — bind records (spec §6).
#include "karton/bind.hpp"

namespace karton {

namespace {

[[noreturn]] void bind_error(std::string_view identity, const std::string& msg) {
    throw BindError("bind of \"" + std::string(identity) + "\": " + msg);
}

const json::Value& required(const json::Object& o, std::string_view identity,
                            std::string_view key) {
    const json::Value* v = o.find(key);
    if (v == nullptr) {
        bind_error(identity, "missing key '" + std::string(key) + "'");
    }
    return *v;
}

std::optional<std::string> optional_string(const json::Value& v, std::string_view identity,
                                           std::string_view key) {
    if (v.is_null()) {
        return std::nullopt;
    }
    if (!v.is_string()) {
        bind_error(identity, "'" + std::string(key) + "' must be a str or null, got " +
                                 json::type_name(v.type()));
    }
    return v.as_string();
}

bool boolean(const json::Value& v, std::string_view identity, std::string_view key) {
    if (!v.is_bool()) {
        bind_error(identity,
                   "'" + std::string(key) + "' must be a bool, got " + json::type_name(v.type()));
    }
    return v.as_bool();
}

void append_optional(std::string& out, const std::optional<std::string>& s) {
    if (s) {
        json::dump_string_to(out, *s);
    } else {
        out.append("null");
    }
}

}  // namespace

std::string serialize_bind(const Bind& b) {
    std::string out;
    out.reserve(256);
    out.append("{\"filters\": ");
    json::dump_to(out, b.filters);
    out.append(", \"info\": ");
    append_optional(out, b.info);
    out.append(", \"is_async\": ");
    out.append(b.is_async ? "true" : "false");
    out.append(", \"persistent\": ");
    out.append(b.persistent ? "true" : "false");
    out.append(", \"service_version\": ");
    append_optional(out, b.service_version);
    out.append(", \"version\": ");
    json::dump_string_to(out, b.version);
    out.push_back('}');
    return out;
}

Bind parse_bind(std::string_view identity, std::string_view text) {
    json::Value doc;
    try {
        doc = json::parse(text);
    } catch (const json::JsonError& e) {
        bind_error(identity, std::string("not valid JSON: ") + e.what());
    }
    Bind b;
    b.identity = std::string(identity);
    if (doc.is_array()) {
        // Compat: karton 2.x stored the bare filter list.
        b.filters = std::move(doc);
        b.version = "2.x.x";
        b.persistent = !identity.ends_with(".test");
        return b;
    }
    if (!doc.is_object()) {
        bind_error(identity,
                   std::string("must be a dict or list, got ") + json::type_name(doc.type()));
    }
    const json::Object& o = doc.as_object();
    b.info = optional_string(required(o, identity, "info"), identity, "info");
    const json::Value& version = required(o, identity, "version");
    if (!version.is_string()) {
        bind_error(identity,
                   std::string("'version' must be a str, got ") + json::type_name(version.type()));
    }
    b.version = version.as_string();
    b.persistent = boolean(required(o, identity, "persistent"), identity, "persistent");
    b.filters = required(o, identity, "filters");
    if (const json::Value* sv = o.find("service_version")) {
        b.service_version = optional_string(*sv, identity, "service_version");
    }
    if (const json::Value* a = o.find("is_async")) {
        b.is_async = boolean(*a, identity, "is_async");
    }
    return b;
}

bool binds_equal(const Bind& a, const Bind& b) {
    return a.identity == b.identity && a.info == b.info && a.version == b.version &&
           a.persistent == b.persistent && a.service_version == b.service_version &&
           a.is_async == b.is_async && json::python_equal(a.filters, b.filters);
}

std::string debug_identity(std::string_view identity, std::string_view random_hex8) {
    std::string out;
    out.reserve(identity.size() + random_hex8.size() + 5);
    out.append(identity);
    out.push_back('-');
    out.append(random_hex8);
    out.append("-dev");
    return out;
}

Bind apply_debug_mode(Bind b, std::string_view random_hex8) {
    b.identity = debug_identity(b.identity, random_hex8);
    b.persistent = false;
    return b;
}

}  // namespace karton
