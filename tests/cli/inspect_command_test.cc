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

TEST_F(InspectCommand, RejectsAFileNamedZcpThatIsNotAContainerAsAnInputError) {
  std::filesystem::rename(dir_ / WriteCsv("in.csv", 3), dir_ / "in.zcp");
  const auto inspect = Run("inspect in.zcp");
  EXPECT_EQ(inspect.exit_code, 3);
  EXPECT_NE(inspect.err.find("zcpipe: error: in.zcp: not a zcp file"), std::string::npos)
      << inspect.err;
}

// Issue 25: any other file is an input, shown as `run` reads it.
TEST_F(InspectCommand, ShowsAnInputFilesDialectAndSchema) {
  const auto inspect = Run("inspect " + WriteCsv("in.csv", 3));
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ(inspect.out,
            "file:        in.csv\n"
            "format:      csv\n"
            "dialect:     delimiter ',' (sniffed), quote '\"' (default), escape '\"', header yes "
            "(sniffed)\n"
            "schema:      id:int64,email:string,amount:float64\n");
  const auto missing = Run("inspect missing.csv");
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_TRUE(Contains(missing.err, "missing.csv")) << missing.err;
}

}  // namespace
}  // namespace zcpipe::cli
