#include "import_stages.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <tuple>

#include "frame_ledger.h"
#include "wire.h"
#include "zcpipe/stages/chunker.h"
#include "zcpipe/stages/container.h"
#include "zcpipe/stages/csv.h"
#include "zcpipe/stages/jsonl.h"
#include "zcpipe/stages/transform_spec.h"
#include "zcpipe/workgroup/worker.h"

namespace zcpipe::detail {
namespace {

using stages::kChunkOverhead;
using stages::kChunkTagSize;
using stages::kFrameHeaderSize;

std::string_view AsText(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string EncodeReply(const ProcessReply& reply) {
  WireWriter wire;
  for (const std::uint64_t value :
       {reply.batch_offset, reply.batch_size, reply.rows_in, reply.rows_out, reply.rows_filtered,
        reply.bytes_consumed, reply.lines_consumed, reply.next_row, reply.next_line,
        reply.frame_index, reply.frame_offset, reply.frame_size, reply.seal_nanos,
        std::uint64_t{reply.rejected.size()}}) {
    wire.Put(value);
  }
  for (const auto& error : reply.rejected) {
    wire.Put(static_cast<std::uint64_t>(error.reason));
    wire.Put(error.line);
    wire.Put(error.byte_offset);
    wire.Put(error.column);
    wire.Put(error.detail);
    wire.Put(error.raw);
  }
  return std::move(wire.str());
}

// The import's parse, transform and seal stages inside a worker: state made once per job.
class ImportStages final : public workgroup::Member {
 public:
  explicit ImportStages(workgroup::TaskContext& setup);
  workgroup::TaskResult Invoke(workgroup::TaskContext& call) override;

 private:
  workgroup::TaskResult Process(workgroup::TaskContext& call);
  workgroup::TaskResult Seal(workgroup::TaskContext& call) const;

  std::optional<stages::CsvParser> csv_;
  std::optional<stages::JsonlParser> jsonl_;
  std::unique_ptr<stages::Transform> transform_;
  std::optional<stages::ChunkSealer> sealer_;
  std::vector<std::byte> scratch_;  // the parsed batch, when a transform follows
  // What was parsed last, and from what (chunk, first byte, length): a request that continues
  // a parsed batch (first_row != 0) takes it from here instead of parsing it again.
  using ParsedKey = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>;
  std::optional<stages::ParseOutput> parsed_;
  ParsedKey parsed_key_;
  std::uint64_t batch_room_ = 0;
};

ImportStages::ImportStages(workgroup::TaskContext& setup) {
  WireReader args(AsText(setup.input()));
  WireReader secret(AsText(setup.secret()));
  const bool csv = args.U64() != 0;
  const auto delimiter = static_cast<char>(args.U64());
  const bool header = args.U64() != 0;
  const auto quote = static_cast<char>(args.U64());
  const bool strict = args.U64() != 0;
  const bool decimal_comma = args.U64() != 0;
  const auto schema = stages::Schema::Parse(args.Bytes());
  const auto first_record = args.Bytes();
  batch_room_ = args.U64();
  const auto steps = args.U64();
  std::vector<std::unique_ptr<stages::Transform>> chain;
  for (std::uint64_t i = 0; i < steps && args.ok(); ++i) {
    const auto kind = args.Bytes();
    const auto spec = args.Bytes();
    const auto key = secret.Bytes();
    chain.push_back(
        stages::ParseTransform(kind, spec, std::as_bytes(std::span(key.data(), key.size()))));
  }
  const auto payload_key = secret.Bytes();
  if (!args.ok() || !secret.ok()) throw std::invalid_argument("import stages: bad set-up");
  if (csv) {
    csv_ = stages::CsvParser::Create(
        {.delimiter = delimiter,
         .header = header,
         .schema = schema,
         .quote = quote,
         .strict = strict,
         .decimal_comma = decimal_comma},
        {std::as_bytes(std::span(first_record.data(), first_record.size())), 0, 1, 0});
  } else {
    jsonl_.emplace(stages::JsonlOptions{schema});
  }
  if (chain.size() == 1) transform_ = std::move(chain.front());
  if (chain.size() > 1) transform_ = std::make_unique<stages::TransformChain>(std::move(chain));
  if (!payload_key.empty()) {
    sealer_ = stages::ChunkSealer::FromPayloadKey(
        std::as_bytes(std::span(payload_key.data(), payload_key.size())));
  }
}

workgroup::TaskResult ImportStages::Invoke(workgroup::TaskContext& call) {
  switch (call.arg(0) & 0xff) {
    case kProcess:
      return Process(call);
    case kSeal:
      return Seal(call);
    default:
      return workgroup::TaskFail("import stages: unknown call");
  }
}

workgroup::TaskResult ImportStages::Process(workgroup::TaskContext& call) {
  const auto input = call.input();
  const auto output = call.output();
  const std::uint64_t made = (call.arg(0) >> 8) & 0xffffff;
  const std::uint64_t length = call.arg(0) >> 32;
  if (length > input.size() || output.size() < kFrameHeaderSize + batch_room_ + kChunkTagSize) {
    return workgroup::TaskFail("import stages: request out of bounds");
  }
  const stages::Chunk chunk{input.first(length), call.arg(1), call.arg(2), call.arg(3)};
  const auto first_row = static_cast<std::uint32_t>(call.arg(4));
  const auto room = output.subspan(output.size() - kChunkTagSize - batch_room_, batch_room_);
  ProcessReply reply;
  // With a transform the parsed batch goes to scratch_, and stays there for the request that
  // continues it (first_row != 0), which the caller sends to this member when it can.
  const ParsedKey key{chunk.index, chunk.first_byte, length};
  if (!transform_ || first_row == 0 || !parsed_ || parsed_key_ != key) {
    std::span<std::byte> parse_into = room;
    if (transform_) {
      scratch_.resize(room.size());
      parse_into = scratch_;
    }
    parsed_.reset();
    auto parsed = csv_ ? csv_->Parse(chunk, parse_into) : jsonl_->Parse(chunk, parse_into);
    if (!parsed) return workgroup::TaskFail(parsed.error().message);
    parsed_ = std::move(*parsed);
    parsed_key_ = key;
  }
  const stages::ParseOutput& parsed = *parsed_;
  reply.rows_in = parsed.rows_out + parsed.rejected.size();
  reply.rows_out = parsed.rows_out;
  reply.bytes_consumed = parsed.bytes_consumed;
  reply.lines_consumed = parsed.lines_consumed;
  std::span<std::byte> batch = parsed.batch;
  if (!transform_) {
    reply.rejected = parsed.rejected;
  } else {
    auto view = stages::BatchView::Open(parsed.batch);
    if (!view) return workgroup::TaskFail(view.error().message);
    if (first_row != 0 && first_row >= view->row_count()) {
      return workgroup::TaskFail("import stages: request out of bounds");
    }
    // Rows [first_row, next) of the parsed batch, as many as the block holds (ApplyFrom, as
    // in-process), and the rows the parser rejected among them (by line).
    stages::InputErrors rejected;
    auto out = transform_->ApplyFrom(*view, first_row, room, rejected);
    if (!out) return workgroup::TaskFail(out.error().message);
    const std::uint32_t next = first_row + out->rows_out + out->rows_rejected + out->rows_filtered;
    const std::uint64_t from = first_row == 0 ? 0 : view->row_line(first_row);
    const std::uint64_t to = next >= view->row_count() ? UINT64_MAX : view->row_line(next);
    for (const auto& error : parsed.rejected) {
      if (error.line >= from && error.line < to) reply.rejected.push_back(error);
    }
    reply.rows_in = reply.rejected.size() + next - first_row;
    reply.rejected.insert(reply.rejected.end(), std::make_move_iterator(rejected.begin()),
                          std::make_move_iterator(rejected.end()));
    batch = out->batch;
    reply.rows_out = out->rows_out;
    reply.rows_filtered = out->rows_filtered;
    if (next < view->row_count()) {
      reply.next_row = next;
      reply.next_line = to;
    }
  }
  reply.batch_offset = static_cast<std::uint64_t>(batch.data() - output.data());
  reply.batch_size = batch.size();
  // The result is [reply's size][reply][frame, if any][batch], the batch being the block's
  // tail: with the copy transport only these bytes travel. The frame is sealed if the chunk's
  // index is known by now and there is room; else the coordinator has the batch sealed on its
  // own. The reply's size does not depend on the frame's fields.
  const std::uint64_t reply_size = EncodeReply(reply).size();
  if (kReplyMin + reply_size > reply.batch_offset) {
    return workgroup::TaskFail("too many rejected rows in one chunk to report");
  }
  std::optional<std::uint64_t> first_frame;
  if (sealer_ && input.size() >= length + 8) {
    first_frame = FrameLedger::ReadSlot(input.last<8>());
  }
  const std::uint64_t frame_size = batch.size() + kChunkOverhead;
  if (first_frame && kReplyMin + reply_size + frame_size <= reply.batch_offset) {
    const auto start = std::chrono::steady_clock::now();
    // Marks the block before any of the frame is written; see kSealingMark.
    std::atomic_ref(*reinterpret_cast<std::uint64_t*>(output.data())).store(kSealingMark);
    reply.frame_index = *first_frame + made;
    reply.frame_offset = reply.batch_offset - frame_size;
    reply.frame_size = frame_size;
    auto sealed = sealer_->Seal(reply.frame_index, false, batch,
                                output.subspan(reply.frame_offset, reply.frame_size));
    if (!sealed) return workgroup::TaskFail(stages::Describe(sealed.error()));
    reply.seal_nanos = static_cast<std::uint64_t>(
        std::chrono::nanoseconds(std::chrono::steady_clock::now() - start).count());
  }
  const std::string wire = EncodeReply(reply);
  const std::uint64_t reply_at =
      (reply.frame_size != 0 ? reply.frame_offset : reply.batch_offset) - reply_size - 8;
  std::memcpy(output.data() + reply_at, &reply_size, 8);
  std::memcpy(output.data() + reply_at + 8, wire.data(), reply_size);
  call.set_result_start(reply_at);
  return reply.batch_offset + reply.batch_size;
}

workgroup::TaskResult ImportStages::Seal(workgroup::TaskContext& call) const {
  const auto batch = call.input();
  const auto output = call.output();
  if (!sealer_ || batch.size() + kChunkOverhead > output.size()) {
    return workgroup::TaskFail("import stages: bad seal request");
  }
  const auto frame = output.first(batch.size() + kChunkOverhead);
  const bool overlap =
      frame.data() < batch.data() + batch.size() && batch.data() < frame.data() + frame.size();
  if (overlap) return workgroup::TaskFail("import stages: frame overlaps its batch");
  auto sealed = sealer_->Seal(call.arg(1), false, batch, frame);
  if (!sealed) return workgroup::TaskFail(stages::Describe(sealed.error()));
  return frame.size();
}

}  // namespace

EncodedSetup Encode(const StageSetup& setup) {
  WireWriter args, secret;
  args.Put(setup.csv ? 1 : 0);
  args.Put(static_cast<std::uint64_t>(static_cast<unsigned char>(setup.delimiter)));
  args.Put(setup.header ? 1 : 0);
  args.Put(static_cast<std::uint64_t>(static_cast<unsigned char>(setup.quote)));
  args.Put(setup.strict ? 1 : 0);
  args.Put(setup.decimal_comma ? 1 : 0);
  args.Put(setup.schema);
  args.Put(setup.first_record);
  args.Put(setup.batch_room);
  args.Put(setup.steps.size());
  // The keys go in one buffer of their final size (no reallocation leaves a copy behind), which
  // is copied into a SecretBytes and wiped.
  std::size_t secret_size = 8 + setup.payload_key.size();
  for (const auto& step : setup.steps) secret_size += 8 + step.key_bytes().size();
  secret.str().reserve(secret_size);
  for (const auto& step : setup.steps) {
    args.Put(step.kind);
    args.Put(step.spec);
    secret.Put(AsText(step.key_bytes()));
  }
  secret.Put(setup.payload_key);
  std::string& text = secret.str();
  EncodedSetup encoded{std::move(args.str()),
                       stages::SecretBytes::CopyOf(std::as_bytes(std::span(text)))};
  ::explicit_bzero(text.data(), text.size());
  return encoded;
}

std::optional<ProcessReply> ReadReply(std::span<const std::byte> result, std::uint64_t at) {
  if (result.size() < 8) return std::nullopt;
  std::uint64_t size = 0;
  std::memcpy(&size, result.data(), 8);
  if (size > result.size() - 8) return std::nullopt;
  // Parsed from a private copy: the worker can rewrite its block meanwhile, and what is checked
  // must be what is used.
  const std::string copy(AsText(result.subspan(8, size)));
  WireReader wire(copy);
  ProcessReply reply;
  reply.batch_offset = wire.U64();
  reply.batch_size = wire.U64();
  reply.rows_in = wire.U64();
  reply.rows_out = wire.U64();
  reply.rows_filtered = wire.U64();
  reply.bytes_consumed = wire.U64();
  reply.lines_consumed = wire.U64();
  reply.next_row = wire.U64();
  reply.next_line = wire.U64();
  reply.frame_index = wire.U64();
  reply.frame_offset = wire.U64();
  reply.frame_size = wire.U64();
  reply.seal_nanos = wire.U64();
  const auto rejected = wire.U64();
  for (std::uint64_t i = 0; i < rejected && wire.ok(); ++i) {
    stages::InputError error;
    const auto reason = wire.U64();
    if (reason > static_cast<std::uint64_t>(stages::InputErrc::kPoison)) return std::nullopt;
    error.reason = static_cast<stages::InputErrc>(reason);
    error.line = wire.U64();
    error.byte_offset = wire.U64();
    error.column = wire.Bytes();
    error.detail = wire.Bytes();
    error.raw = wire.Bytes();
    reply.rejected.push_back(std::move(error));
  }
  const std::uint64_t end = at + result.size();  // of the batch, and of the result
  const bool frame_fits =
      reply.frame_size == 0 ||
      (reply.frame_size == reply.batch_size + kChunkOverhead &&
       reply.frame_offset >= at + 8 + size && reply.frame_offset <= reply.batch_offset &&
       reply.frame_size <= reply.batch_offset - reply.frame_offset);
  if (!wire.ok() || reply.rows_out + reply.rows_filtered > reply.rows_in ||
      reply.batch_offset < at + 8 + size || reply.batch_offset > end ||
      reply.batch_size != end - reply.batch_offset || !frame_fits) {
    return std::nullopt;
  }
  return reply;
}

stages::InputErrors SplitRecords(std::span<const std::byte> bytes, char delimiter, char quote,
                                 std::uint64_t first_line, std::uint64_t first_byte,
                                 std::size_t limit) {
  stages::InputErrors records;
  const std::string_view text = AsText(bytes);
  for (const auto& record :
       stages::SplitRecords({bytes, 0, first_line, first_byte}, delimiter, quote, limit)) {
    records.push_back({stages::InputErrc::kPoison,
                       record.line,
                       first_byte + record.begin,
                       {},
                       "the row's chunk killed the workers that parsed it",
                       std::string(text.substr(record.begin, record.end - record.begin))});
  }
  return records;
}

void RegisterPipelineMembers() {
  static const bool registered = workgroup::RegisterMember<ImportStages>(kImportStagesMember);
  (void)registered;
}

namespace {
// Registered before main(), so that a worker (the same program, in RunIfWorker) finds it: the
// workgroup layer knows no import code. This file is linked into every program that runs an
// import, since the coordinator calls SplitRecords and the frame helpers above.
[[maybe_unused]] const bool kRegistered = (RegisterPipelineMembers(), true);
}  // namespace

}  // namespace zcpipe::detail
