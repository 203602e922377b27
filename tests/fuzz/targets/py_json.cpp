// Fuzz target py_json: postprocess::PyObjectParser (one drakmon.log line, re-encoded like
// Python json.dumps) and the member decoders. Invariant: the re-encoded text of an accepted
// line is itself accepted and re-encodes to the same bytes.
#include <string>

#include "postprocess/py_json.hpp"
#include "targets.hpp"

namespace fuzz {

int fuzz_py_json(const std::uint8_t* data, std::size_t size) {
    postprocess::PyObjectParser parser;
    if (!parser.parse(as_text(data, size))) {
        return 0;
    }
    const std::string encoded(parser.encoded());
    for (const auto& key : {"Plugin", "TimeStamp", "PID", "Method"}) {
        if (auto v = parser.get(key)) {
            (void)postprocess::py_decode_string(*v);
            (void)postprocess::py_decode_int(*v);
        }
    }
    postprocess::PyObjectParser again;
    check(again.parse(encoded), "py_json: encoded output rejected");
    check(again.encoded() == encoded, "py_json: re-encoding not stable");
    return 0;
}

}  // namespace fuzz
