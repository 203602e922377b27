// karton/filter.hpp — compiled bind filters with the reference's exact matching semantics
// (spec §8: old-style "!" negation veto across rules, end-anchored/start-unanchored globs,
// Python str() coercion, list membership, MongoDB-like operators, dotted paths; §8.4 errors).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "karton/json.hpp"
#include "util/error.hpp"

namespace karton {

// QueryError: the reference's karton.core.query.QueryError (invalid regex, unknown operator,
// unknown $type alias, ...). karton-system logs "Task matching failed - invalid filters?" and
// skips the bind for that task (spec §7.2, §8.4).
class QueryError : public util::Error {
  public:
    using util::Error::Error;
};

// FilterError: any other exception the reference raises while converting or evaluating filters
// (TypeError from $in/$mod, NotImplementedError from $where, AttributeError for malformed
// filter structure). In karton-system it propagates and stops the router (spec §8.4).
class FilterError : public util::Error {
  public:
    // python_type is the reference's exception class name ("TypeError", "AttributeError", ...).
    FilterError(std::string python_type, const std::string& message)
        : util::Error(python_type + ": " + message), python_type_(std::move(python_type)) {}
    const std::string& python_type() const { return python_type_; }

  private:
    std::string python_type_;
};

// Filter is a bind's `filters` value compiled once (globs parsed, regexes compiled, paths
// split) and evaluated many times. Copies share the immutable compiled state; matches() is
// const and thread-safe.
class Filter {
  public:
    // compile converts a bind's filters (normally an array of objects, spec §6.1/§8.1).
    // An empty array or {} or "" yields a filter that matches nothing.
    // Throws FilterError where the reference fails while converting: a non-iterable value
    // (null, number, bool: TypeError) or a rule that is not an object (AttributeError, e.g. a
    // non-empty object given instead of a list, F017). Operator validity is NOT checked here:
    // like the reference, invalid operators only raise when a task is evaluated.
    // Filters nested deeper than kMaxDepth are refused with FilterError("RecursionError", ...)
    // before anything else is done with them (see kMaxDepth).
    static Filter compile(const json::Value& filters);

    // kMaxDepth bounds the nesting of a filters value (arrays and objects, the outer list is
    // level 1). Compiling and evaluating recurse once or more per level, so an unbounded depth
    // (a bind record is outside input; a value built in memory can be 10,000 deep) would
    // overflow the stack. Real binds use 3-5 levels; the reference fails with a Python
    // RecursionError a few hundred levels deep, so 100 refuses nothing it would accept usefully.
    static constexpr std::size_t kMaxDepth = 100;

    // matches evaluates the filter on a task's headers:
    // match = (∃R: pos(R)) ∧ ¬(∃R: pos(R) ∧ neg(R)), in the reference's evaluation order so
    // that the same inputs raise the same errors.
    // Throws QueryError (bind to be skipped) or FilterError (router must abort), spec §8.4.
    bool matches(const json::Object& headers) const;

    // source is the filters value this was compiled from.
    const json::Value& source() const;

  private:
    struct Impl;
    explicit Filter(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;  // shared by copies; immutable after compile
};

}  // namespace karton
