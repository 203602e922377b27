// util/clock.hpp — injectable wall clock (style rule 10): library code never reads the
// system clock directly, so tests and spec vectors can reproduce timestamps exactly.
#pragma once

namespace util {

// Clock returns Unix time in seconds (fractional).
class Clock {
public:
    virtual ~Clock() = default;
    virtual double now() = 0;
};

// SystemClock reads the real wall clock.
class SystemClock final : public Clock {
public:
    double now() override;
};

// FixedStepClock starts at `start` and advances by `step` on every reading (the spec vectors
// were produced with start=1700000000.0, step=0.125).
class FixedStepClock final : public Clock {
public:
    FixedStepClock(double start, double step) : next_(start), step_(step) {}
    double now() override {
        double v = next_;
        next_ += step_;
        return v;
    }

private:
    double next_;
    double step_;
};

// system_clock returns a process-wide SystemClock.
Clock& system_clock();

}  // namespace util
