#include "util/magic.hpp"

#include <magic.h>

#include <memory>
#include <mutex>

#include "util/error.hpp"

namespace util {

namespace {
struct MagicDeleter {
    void operator()(magic_t m) const { magic_close(m); }
};
using MagicPtr = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicDeleter>;
}  // namespace

std::string describe_file(const std::filesystem::path& path) {
    // A magic_t is not thread-safe; one cookie per call keeps this simple (cost ~ms).
    MagicPtr m(magic_open(MAGIC_NONE | MAGIC_ERROR));
    if (!m) {
        throw Error("magic_open failed");
    }
    if (magic_load(m.get(), nullptr) != 0) {
        throw Error(std::string("magic_load: ") + magic_error(m.get()));
    }
    const char* desc = magic_file(m.get(), path.c_str());
    if (desc == nullptr) {
        throw Error("libmagic cannot describe " + path.string() + ": " + magic_error(m.get()));
    }
    return desc;
}

}  // namespace util
