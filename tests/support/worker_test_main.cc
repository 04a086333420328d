// main() for test binaries whose tests start worker processes: the binary is its own worker.
#include <gtest/gtest.h>

#include "zcpipe/workgroup/worker.h"

int main(int argc, char** argv) {
  if (auto code = zcpipe::workgroup::RunIfWorker(argc, argv)) return *code;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
