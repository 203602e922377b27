// util/error.hpp — root of every exception thrown by project libraries.
// Style rule 8: throw only types derived from util::Error; expected outcomes are returned.
#pragma once

#include <stdexcept>
#include <string>

namespace util {

// Error is the base of each library's exception tree (karton::Error, s3::S3Error, ...).
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// InputError marks hostile or malformed input from outside (task JSON, logs, uploads, config).
class InputError : public Error {
public:
    using Error::Error;
};

// SystemError wraps a failed OS call; the message carries the call, context and strerror(errno).
class SystemError : public Error {
public:
    SystemError(const std::string& context, int err);
    int code() const { return code_; }

private:
    int code_;
};

// Throws SystemError(context, errno).
[[noreturn]] void throw_errno(const std::string& context);

}  // namespace util
