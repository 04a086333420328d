#include "cli_test_fixture.h"

namespace zcpipe::cli {
namespace {

using InspectCommand = CliTest;

TEST_F(InspectCommand, ShowsTheHeaderSchemaAndChunkCountWithoutAKey) {
  ImportCsv(100);
  const auto inspect = Run("inspect out.zcp");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("schema:      id:int64,email:string,amount:float64"),
            std::string::npos)
      << inspect.out;
  EXPECT_NE(inspect.out.find("chunks:      2"), std::string::npos) << inspect.out;  // + final
  EXPECT_NE(inspect.out.find("key:         key file"), std::string::npos) << inspect.out;
}

TEST_F(InspectCommand, RejectsAFileThatIsNotAContainerAsAnInputError) {
  const auto inspect = Run("inspect " + WriteCsv("in.csv", 3));
  EXPECT_EQ(inspect.exit_code, 3);
  EXPECT_NE(inspect.err.find("zcpipe: error: in.csv: not a zcp file"), std::string::npos)
      << inspect.err;
}

}  // namespace
}  // namespace zcpipe::cli
