// karton/filter.cpp — bind filter compilation and matching (spec §8).
#include "karton/filter.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "karton/internal/glob.hpp"
#include "karton/internal/query.hpp"

namespace karton {

namespace {

// One top-level rule entry: either a glob on a header path (fast path, no regex engine) or a
// generic condition P(key, cond, headers) evaluated by the query engine.
struct Entry {
    std::string key;
    const json::Value* cond = nullptr;         // into Impl::source, or owned below
    std::unique_ptr<const json::Value> owned;  // stripped "!" literal or {"$regex": glob}
    std::optional<internal::Glob> glob;        // set for globs on non-operator keys
    const json::Value& condition() const { return owned ? *owned : *cond; }
};

struct Rule {
    std::vector<Entry> positive;
    std::vector<Entry> negative;
};

[[noreturn]] void not_items(const json::Value& v) {
    throw FilterError("AttributeError", std::string("'") +
                                            (v.is_null() ? "NoneType" : json::type_name(v.type())) +
                                            "' object has no attribute 'items'");
}

Entry make_string_entry(const std::string& key, const std::string& pattern,
                        const json::Value* original) {
    Entry e;
    e.key = key;
    if (!internal::is_glob_pattern(pattern)) {
        if (original != nullptr) {
            e.cond = original;
        } else {
            e.owned = std::make_unique<const json::Value>(pattern);
        }
        return e;
    }
    if (!key.empty() && key[0] == '$') {
        // An operator key receives the reference's {"$regex": ...} object as its operand; it is
        // evaluated against the headers dict, so the exact regex text never matters.
        e.owned = std::make_unique<const json::Value>(json::Object{{"$regex", pattern}});
        return e;
    }
    e.glob = internal::Glob::compile(pattern);
    return e;
}

// check_depth walks `v` without recursion and throws FilterError("RecursionError") when arrays
// and objects nest deeper than `max_depth` (the walk stops at the first level over the cap).
void check_depth(const json::Value& v, std::size_t max_depth) {
    std::vector<std::pair<const json::Value*, std::size_t>> todo{{&v, 1}};
    while (!todo.empty()) {
        const auto [node, depth] = todo.back();
        todo.pop_back();
        if (!node->is_array() && !node->is_object()) {
            continue;
        }
        if (depth > max_depth) {
            throw FilterError("RecursionError", "filters nested deeper than " +
                                                    std::to_string(max_depth) + " levels");
        }
        if (node->is_array()) {
            for (const json::Value& e : node->as_array()) {
                todo.emplace_back(&e, depth + 1);
            }
        } else {
            for (const auto& [key, e] : node->as_object()) {
                todo.emplace_back(&e, depth + 1);
            }
        }
    }
}

}  // namespace

struct Filter::Impl {
    json::Value source;
    std::vector<Rule> rules;
    std::unique_ptr<internal::QueryEngine> engine;  // refers into `source`

    bool eval(const Entry& e, const json::Object& headers) const {
        if (e.glob) {
            const auto s = engine->extract_string(e.key, headers);
            if (!s) {
                return false;  // globs never match missing or non-string values
            }
            if (e.glob->deferred_error()) {
                throw QueryError(*e.glob->deferred_error());
            }
            return e.glob->matches(*s);
        }
        return engine->condition(e.key, e.condition(), headers);
    }
};

Filter Filter::compile(const json::Value& filters) {
    check_depth(filters, kMaxDepth);  // before the copy below, which recurses too
    auto impl = std::make_shared<Impl>();
    impl->source = filters;
    const json::Value& src = impl->source;
    std::vector<const json::Value*> rules;
    switch (src.type()) {
        case json::Value::Type::Array:
            for (const json::Value& r : src.as_array()) {
                rules.push_back(&r);
            }
            break;
        case json::Value::Type::Object:
            // Compat: iterating a dict yields its keys (strings), which have no .items().
            if (!src.as_object().empty()) {
                not_items(json::Value(""));
            }
            break;
        case json::Value::Type::String:
            if (!src.as_string().empty()) {
                not_items(json::Value(""));
            }
            break;
        default:
            throw FilterError("TypeError",
                              std::string("'") +
                                  (src.is_null() ? "NoneType" : json::type_name(src.type())) +
                                  "' object is not iterable");
    }
    for (const json::Value* r : rules) {
        if (!r->is_object()) {
            not_items(*r);
        }
        Rule rule;
        for (const auto& [key, value] : r->as_object()) {
            if (value.is_string()) {
                const std::string& s = value.as_string();
                if (!s.empty() && s[0] == '!') {
                    rule.negative.push_back(make_string_entry(key, s.substr(1), nullptr));
                } else {
                    rule.positive.push_back(make_string_entry(key, s, &value));
                }
            } else {
                Entry e;
                e.key = key;
                e.cond = &value;
                rule.positive.push_back(std::move(e));
            }
        }
        impl->rules.push_back(std::move(rule));
    }
    impl->engine = std::make_unique<internal::QueryEngine>(src);
    return Filter(std::move(impl));
}

bool Filter::matches(const json::Object& headers) const {
    // Reference order: {"$and": [{"$not": {"$or": [pos(R) and neg(R) ...]}}, {"$or": [pos(R)...]}]}
    // pos(R) is deterministic, so the second pass reuses the first pass's results.
    bool any_positive = false;
    for (const Rule& rule : impl_->rules) {
        bool pos = true;
        for (const Entry& e : rule.positive) {
            if (!impl_->eval(e, headers)) {
                pos = false;
                break;
            }
        }
        if (!pos) {
            continue;
        }
        any_positive = true;
        for (const Entry& e : rule.negative) {
            if (impl_->eval(e, headers)) {
                return false;  // old-style negation vetoes the whole bind
            }
        }
    }
    return any_positive;
}

const json::Value& Filter::source() const { return impl_->source; }

}  // namespace karton
