// karton/errors.hpp — exception types of the karton library (style rule 8).
// karton::Error covers library failures not caused by input; the *Error types below that derive
// util::InputError mark malformed external input (task/bind JSON, config files, zip entries).
#pragma once

#include "util/error.hpp"

namespace karton {

// Error is the root of karton failures that are not malformed input (misuse, I/O).
class Error : public util::Error {
  public:
    using util::Error::Error;
};

// TaskError: a task document that cannot be read (spec §4.2); the message names the field.
class TaskError : public util::InputError {
  public:
    using util::InputError::InputError;
};

// ResourceError: a malformed resource marker, unreadable local source or unsafe/oversized
// directory archive (spec §4.3).
class ResourceError : public util::InputError {
  public:
    using util::InputError::InputError;
};

// BindError: a bind record that cannot be read (spec §6.2).
class BindError : public util::InputError {
  public:
    using util::InputError::InputError;
};

// ConfigError: configuration that cannot be loaded or a value of the wrong type (spec §1);
// the message names the file (when known), section and option.
class ConfigError : public util::InputError {
  public:
    using util::InputError::InputError;
};

// InvalidIdentityError: a service identity containing a space or '?' (spec §2.1).
class InvalidIdentityError : public util::InputError {
  public:
    using util::InputError::InputError;
};

// TaskTimeoutError: processing a task took longer than [karton] task_timeout (spec §10 step 7;
// karton-core raises karton.core.exceptions.TaskTimeoutError from a SIGALRM handler).
class TaskTimeoutError : public Error {
  public:
    using Error::Error;
};

}  // namespace karton
