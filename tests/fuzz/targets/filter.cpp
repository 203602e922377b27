// Fuzz target filter: karton::Filter::compile + matches (spec karton-protocol §8).
// Input: first line = filters JSON, rest = headers JSON (an object; otherwise the input is
// used as a header value {"type": <rest>}). Documented errors: JsonError, QueryError,
// FilterError.
#include "karton/filter.hpp"
#include "karton/json.hpp"
#include "targets.hpp"

namespace fuzz {

int fuzz_filter(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = as_text(data, size);
    const auto nl = text.find('\n');
    const std::string_view filters_text = text.substr(0, nl);
    const std::string_view headers_text = nl == std::string_view::npos ? "" : text.substr(nl + 1);
    try {
        const karton::Filter filter = karton::Filter::compile(karton::json::parse(filters_text));
        karton::json::Object headers;
        try {
            karton::json::Value h = karton::json::parse(headers_text);
            if (h.is_object()) {
                headers = h.as_object();
            } else {
                headers.set("type", std::move(h));
            }
        } catch (const karton::json::JsonError&) {
            headers.set("type", karton::json::Value(std::string(headers_text)));
        }
        (void)filter.matches(headers);
        (void)filter.matches(karton::json::Object{});
    } catch (const karton::json::JsonError&) {
    } catch (const karton::QueryError&) {
    } catch (const karton::FilterError&) {
    }
    return 0;
}

}  // namespace fuzz
