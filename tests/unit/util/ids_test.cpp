#include "util/ids.hpp"

#include <gtest/gtest.h>

TEST(Ids, SequentialMatchesVectorSequence) {
    util::SequentialIdSource ids;
    EXPECT_EQ(ids.uuid4(), "00000000-0000-4000-8000-000000000001");
    EXPECT_EQ(ids.uuid4(), "00000000-0000-4000-8000-000000000002");
}

TEST(Ids, RandomIsVersion4) {
    auto u = util::RandomIdSource().uuid4();
    ASSERT_TRUE(util::is_uuid_text(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);
    EXPECT_NE(u, util::RandomIdSource().uuid4());
}
