// worker_protocol.h: what the coordinator and its workers share besides the rings.
#include "worker_protocol.h"

#include <gtest/gtest.h>

namespace zcpipe::workgroup::detail {
namespace {

// The supervisor compares timestamps other threads take: one taken after its clock read must
// not look 2^64 ns old (a false stall, which killed busy workers).
TEST(NanosSince, ALaterTimestampIsNoTimeAgoNotAnEternity) {
  EXPECT_EQ(NanosSince(100, 250), 150u);
  EXPECT_EQ(NanosSince(250, 250), 0u);
  EXPECT_EQ(NanosSince(251, 250), 0u);
  const auto now = MonotonicNanos();
  EXPECT_EQ(NanosSince(MonotonicNanos(), now), 0u);
}

}  // namespace
}  // namespace zcpipe::workgroup::detail
