#include "util/clock.hpp"

#include <chrono>

namespace util {

double SystemClock::now() {
    auto t = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration<double>(t).count();
}

Clock& system_clock() {
    static SystemClock clock;
    return clock;
}

}  // namespace util
