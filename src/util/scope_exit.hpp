// util/scope_exit.hpp — one-off undo on every return path (absl::Cleanup style).
#pragma once

#include <utility>

namespace util {

// ScopeExit runs `f` when it goes out of scope unless cancel() was called.
template <typename F>
class ScopeExit {
public:
    explicit ScopeExit(F f) : f_(std::move(f)) {}
    ~ScopeExit() {
        if (active_) {
            f_();
        }
    }
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;
    void cancel() { active_ = false; }

private:
    F f_;
    bool active_ = true;
};

}  // namespace util
