#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace util {

SystemError::SystemError(const std::string& context, int err)
    : Error(context + ": " + std::strerror(err)), code_(err) {}

void throw_errno(const std::string& context) { throw SystemError(context, errno); }

}  // namespace util
