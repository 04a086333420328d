#include "isolated_stages.h"

#include <strings.h>

#include <algorithm>
#include <cstring>

#include "import_stages.h"
#include "worker_results.h"

namespace zcpipe::detail {

using stages::kChunkOverhead;

ImportResult<std::unique_ptr<workgroup::Workgroup>> IsolatedStages::Launch(const JobErrors& errors,
                                                                           unsigned count,
                                                                           Transport transport) {
  workgroup::HealthConfig health{std::chrono::milliseconds(100), std::chrono::milliseconds(10'000),
                                 2, true};
  try {  // configuration: the Workgroup throws when it cannot start
    auto workers = std::make_unique<workgroup::Workgroup>(
        workgroup::WorkgroupOptions{.workers = count,
                                    .health = health,
                                    .transport = transport,
                                    .executable = "/proc/self/exe"});
    workers->Launch();
    return workers;
  } catch (const std::exception& e) {
    return tl::unexpected(
        errors.Make(ErrorKind::kInitialization, Stage::kParse, "workers did not start", e.what()));
  }
}

IsolatedStages::IsolatedStages(const JobConfig& config, const JobErrors& errors, ChunkArena& arena,
                               workgroup::Workgroup& workers, stages::ContainerWriter* writer,
                               StageHost& host)
    : config_(config),
      errors_(errors),
      arena_(arena),
      workers_(workers),
      writer_(writer),
      host_(host) {}

ImportStatus IsolatedStages::Open(const Setup& setup, shm::BlockPool& pool, bool attached) {
  const auto fail = [&](const std::string& reason, const std::string& message) {
    return tl::unexpected(errors_.Make(ErrorKind::kInitialization, Stage::kParse, reason, message));
  };
  csv_ = setup.csv;
  encoding_ = setup.encoding;
  dialect_ = setup.dialect;
  StageSetup stage_setup{.csv = setup.csv,
                         .delimiter = dialect_.delimiter,
                         .header = dialect_.header,
                         .quote = dialect_.quote,
                         .strict = config_.strict,
                         .decimal_comma = config_.decimal_comma,
                         .schema = setup.parsed_schema.ToString(),
                         .batch_room = arena_.plan().batch_room};
  if (setup.csv) {  // the parser in the worker reads the header as this one did
    auto records = SplitRecords(setup.first_chunk, dialect_.delimiter, dialect_.quote, 1, 0, 1);
    if (!records.empty()) stage_setup.first_record = records.front().raw + "\n";
  }
  if (config_.transform) {
    stage_setup.steps = config_.transform->recipe();
    if (stage_setup.steps.empty()) {
      return fail("transform cannot run isolated",
                  "the transform was not made by ParseTransform (register its kind with "
                  "RegisterTransformKind so that workers can make it)");
    }
  }
  if (writer_ != nullptr) {
    const auto key = writer_->sealer().payload_key();
    stage_setup.payload_key.assign(reinterpret_cast<const char*>(key.data()), key.size());
  }
  const auto encoded = Encode(stage_setup);
  ::explicit_bzero(stage_setup.payload_key.data(), stage_setup.payload_key.size());
  try {  // configuration: mapping the arena in the workers throws when it cannot
    if (!attached) workers_.AttachArena(pool);
  } catch (const std::exception& e) {
    return fail("workers did not start", e.what());
  }
  // A worker that dies while its member is made (one that a JobResources kept may have died
  // since the last job, unnoticed until now) is replaced: the member is made again, on the
  // replacement or another worker. Set-up that kills every worker it meets still fails.
  constexpr int kMemberAttempts = 3;
  const auto add_member = [&] {
    return workers_.AddMember(kImportStagesMember, std::as_bytes(std::span(encoded.args)),
                              encoded.secret.span(), true);
  };
  const auto worker_died = [](const workgroup::WorkError& error) {
    return error.code == workgroup::WorkErrc::kMember ||
           error.code == workgroup::WorkErrc::kCommunication;
  };
  for (unsigned i = 0; i < setup.members; ++i) {
    auto member = add_member();
    for (int attempt = 1; attempt < kMemberAttempts && !member && worker_died(member.error());
         ++attempt) {
      member = add_member();
    }
    if (!member) return fail("workers did not start", member.error().message);
    members_.push_back(*member);
  }
  member_load_ = std::make_unique<std::atomic<std::uint64_t>[]>(members_.size());  // zeros
  // With the copy transport a worker sees its chunk as it was sent, not the slot's later value.
  if (arena_.plan().ledger) ledger_.emplace(setup.first_frame);
  return {};
}

void IsolatedStages::DropMembers() {
  for (const auto& member : members_) workers_.DestroyMember(member);
  members_.clear();
}

shm::Handle IsolatedStages::InputTail(const ChunkState& chunk, std::uint64_t offset) const {
  const std::uint32_t block_size = arena_.plan().pool.block_size;
  return {chunk.input.segment, chunk.input.block, chunk.input.generation,
          static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(block_size - offset)};
}

bool IsolatedStages::SealingBegan(const shm::Handle& block) const {
  std::uint64_t mark = 0;
  std::memcpy(&mark, arena_.Bytes(block).data(), 8);
  return mark == kSealingMark;
}

void IsolatedStages::Process(Msg msg, Gateway& gateway) {
  if (!msg->input.valid() || host_.failed() || host_.cancelled()) {
    if (ledger_) ledger_->Done(msg->seq, 0);
    gateway.try_put(std::move(msg));
    return;
  }
  gateway.reserve_wait();
  msg->stage_start = Clock::now();
  if (ledger_) {
    const auto tail = InputTail(*msg, arena_.plan().pool.block_size - 8);
    ledger_->Track(msg->seq, arena_.Bytes(tail).last<8>());
  }
  msg->todo.push_back({0, msg->input.length, msg->first_line, false});
  ProcessNext(std::move(msg), gateway);
}

void IsolatedStages::ProcessNext(Msg msg, Gateway& gateway) {
  if (msg->todo.empty() || msg->failure || host_.failed()) {
    if (ledger_) ledger_->Done(msg->seq, msg->failure ? 0 : msg->batches.size());
    // As in Import::Parse: offsets in the chunk's UTF-8 text become the input's.
    stages::ToInputOffsets(encoding_, arena_.Bytes(msg->input), msg->first_byte, msg->rejected);
    arena_.Release(msg->input);
    msg->input = {};
    // The workers sealed each batch last: that time is drawn as encrypt, at the end.
    const auto now = Clock::now();
    const auto sealing_from = std::max(msg->stage_start, now - msg->sealing);
    host_.Timed(Stage::kParse, msg->stage_start, sealing_from, *msg);
    if (msg->sealing.count() != 0) host_.Timed(Stage::kEncrypt, sealing_from, now, *msg);
    gateway.try_put(std::move(msg));
    gateway.release_wait();
    return;
  }
  const ByteRange range = msg->todo.front();
  // Called back on a member's reply thread: refused a block, the chunk parks, not the thread.
  std::uint64_t epoch = 0;
  auto block = arena_.TryTake(msg->seq, shm::BlockEnd::kHigh, &epoch);
  if (!block) {
    auto wait = arena_.MayWait(Stage::kParse, msg->seq, msg.get(), msg->refused_since);
    if (wait) {
      arena_.Park(msg->seq, epoch, [this, msg, &gateway] { ProcessNext(msg, gateway); });
      return;
    }
    if (wait.error().error) host_.Fail(std::move(*wait.error().error));
    msg->todo.clear();
    return ProcessNext(std::move(msg), gateway);
  }
  const std::uint64_t length = range.end - range.begin;
  // A reply that does not add up, or a batch the Verifier refuses, or a frame that does not
  // authenticate, is a crash: re-run. What was checked is what `done` uses: `taken`.
  auto taken = std::make_shared<std::optional<TakenProcess>>();
  const ProcessAsked asked{.length = length,
                           .first_row = range.first_row,
                           .sealer = writer_ != nullptr ? &writer_->sealer() : nullptr,
                           .keep_batch = writer_ == nullptr,
                           .buffers = &arena_.taken_buffers()};
  const auto valid = [this, block = *block, asked, taken](const shm::Handle& result) {
    *taken = TakeProcessResult(arena_.Bytes(block), result.offset, result.length, asked);
    return taken->has_value();
  };
  std::memset(arena_.Bytes(*block).data(), 0, 8);  // no kSealingMark yet
  workgroup::Request request{
      .input = ledger_ ? InputTail(*msg, range.begin)
                       : msg->input.Sub(static_cast<std::uint32_t>(range.begin),
                                        static_cast<std::uint32_t>(length)),
      .output = *block,
      .args = {kProcess | msg->batches.size() << 8 | length << 32, msg->index, range.line,
               msg->first_byte + range.begin, range.first_row},
      .validate = valid,
      .max_retries = range.suspect ? std::optional<unsigned>(0) : std::nullopt,
      .populate_output = true};  // the batch at its tail, the frame at its head
  // A continuation goes to the member that parsed the batch, which still has it.
  const int prefer = range.first_row != 0 ? msg->member : -1;
  Call(
      std::move(request), length + length / 8,  // sealing runs ~8x faster than parsing
      [=, this, &gateway](workgroup::WorkResult result, int worker, int member) mutable {
        msg->todo.pop_front();
        msg->worker = worker;
        msg->member = member;
        // A range whose frame may exist must not be cut: its halves would reuse the index.
        const bool sealing_began = !result && SealingBegan(*block);
        if (!result) arena_.Release(*block);
        if (!result && result.error().poison && !sealing_began) {
          Isolate(*msg, range, result.error().message);
          return ProcessNext(std::move(msg), gateway);
        }
        if (!result) {
          const bool stage_error = result.error().code == workgroup::WorkErrc::kJob ||
                                   result.error().code == workgroup::WorkErrc::kMember;
          msg->failure =
              errors_.Make(stage_error ? ErrorKind::kStage : ErrorKind::kWorkerCrash,
                           sealing_began ? Stage::kEncrypt : Stage::kParse,
                           stage_error ? "stage failed" : "worker failed",
                           sealing_began ? result.error().message + " (while sealing chunk " +
                                               std::to_string(msg->index) + ")"
                                         : result.error().message);
          return ProcessNext(std::move(msg), gateway);
        }
        TakenProcess got = std::move(**taken);  // validated: the workgroup called `valid`
        const ProcessReply& reply = got.reply;
        msg->batches.push_back(block->Sub(static_cast<std::uint32_t>(reply.batch_offset),
                                          static_cast<std::uint32_t>(reply.batch_size)));
        msg->taken.push_back(std::move(got.batch));
        msg->frames.push_back({reply.frame_size == 0
                                   ? shm::Handle{}
                                   : block->Sub(static_cast<std::uint32_t>(reply.frame_offset),
                                                static_cast<std::uint32_t>(reply.frame_size)),
                               reply.frame_index, std::move(got.frame)});
        msg->rows_in += reply.rows_in;
        msg->rows_out += reply.rows_out;
        msg->rows_filtered += reply.rows_filtered;
        msg->sealing += std::chrono::nanoseconds(reply.seal_nanos);
        for (const auto& row : reply.rejected) msg->rejected.push_back(row);
        if (reply.bytes_consumed < length) {  // the block filled up: the rest goes next
          msg->todo.push_front({range.begin + reply.bytes_consumed, range.end,
                                range.line + reply.lines_consumed, range.suspect});
        }
        if (reply.next_row != 0) {  // before it, the rest of the batch parsed from this range
          msg->todo.push_front({range.begin, range.begin + reply.bytes_consumed, range.line,
                                range.suspect, static_cast<std::uint32_t>(reply.next_row),
                                reply.next_line});
        }
        ProcessNext(std::move(msg), gateway);
      },
      prefer);
}

void IsolatedStages::Isolate(ChunkState& chunk, const ByteRange& range, const std::string& why) {
  const auto bytes = arena_.Bytes(chunk.input).subspan(range.begin, range.end - range.begin);
  auto records = SplitRecords(bytes, dialect_.delimiter, csv_ ? dialect_.quote : '\0', range.line,
                              chunk.first_byte + range.begin);
  if (csv_ && dialect_.header && chunk.first_byte + range.begin == 0 && !records.empty()) {
    records.erase(records.begin());  // the header travels with the first record
  }
  if (range.first_row != 0) {  // the records before it are in the batches made already
    std::erase_if(records, [&](const auto& record) { return record.line < range.first_row_line; });
  }
  const auto& input_name = errors_.input_name();
  if (!range.suspect) {
    host_.Publish(errors_.Make(
        ErrorKind::kWorkerCrash, Stage::kParse, "poison chunk",
        input_name + ":" + std::to_string(range.line) + ": chunk " + std::to_string(chunk.index) +
            " kills the workers that process it (" + why + "); looking for the rows that do"));
  }
  if (records.size() <= 1) {  // found one: it goes to the error policy
    for (auto& row : records) {
      host_.Publish(errors_.Make(ErrorKind::kWorkerCrash, Stage::kParse, "poison row",
                                 input_name + ":" + std::to_string(row.line) +
                                     ": this row kills the worker that processes it"));
      chunk.rejected.push_back(std::move(row));
      ++chunk.rows_in;
    }
    return;
  }
  // Halve it and try each half once (in order, so that batches stay in input order).
  const auto& first = records.front();
  const auto& middle = records[records.size() / 2];
  const std::uint64_t split = middle.byte_offset - chunk.first_byte;
  chunk.todo.push_front({split, range.end, middle.line, true});
  chunk.todo.push_front({range.first_row != 0 ? first.byte_offset - chunk.first_byte : range.begin,
                         split, range.first_row != 0 ? first.line : range.line, true});
}

void IsolatedStages::Seal(Msg msg, Gateway& gateway) {
  std::vector<std::size_t> unsealed;  // the batches whose worker did not seal them right
  for (std::size_t i = 0; i < msg->batches.size(); ++i) {
    if (i >= msg->frames.size() || !msg->frames[i].handle.valid()) unsealed.push_back(i);
  }
  if (msg->failure || unsealed.empty() || host_.failed() || host_.cancelled()) {
    gateway.try_put(std::move(msg));
    return;
  }
  gateway.reserve_wait();
  msg->stage_start = Clock::now();
  auto left = std::make_shared<std::atomic<std::size_t>>(unsealed.size());
  for (const std::size_t i : unsealed) {
    const shm::Handle batch = msg->batches[i];
    // Out of place, so that a seal cut short by a crash can be re-run on the intact batch: at
    // the start of the batch's block when the batch (its tail) leaves room, else in another.
    const std::uint32_t frame_size = batch.length + kChunkOverhead;
    std::optional<shm::Handle> into;
    if (batch.offset >= frame_size) {
      into = shm::Handle{batch.segment, batch.block, batch.generation, 0, batch.offset};
    } else if (auto block = arena_.Allocate(Stage::kEncrypt, msg->seq, msg.get())) {
      into = *block;
    } else if (block.error().error) {
      host_.Fail(std::move(*block.error().error));
    }
    workgroup::Request request{
        .input = batch,
        .output = into.value_or(shm::Handle{}),
        .args = {kSeal, msg->first_frame + i},
        // Taken out of the arena and authenticated: Write appends that copy (worker_results.h).
        .validate = [this, frame_size, msg, i](const shm::Handle& frame) {
          if (frame.length != frame_size) return false;
          auto taken = TakeFrame(writer_->sealer(), msg->first_frame + i, arena_.Bytes(frame),
                                 arena_.taken_buffers());
          if (taken) msg->taken[i] = std::move(*taken);
          return taken.has_value();
        }};
    const auto done = [=, this, &gateway](workgroup::WorkResult result, int worker, int) {
      msg->worker = worker;
      {
        std::lock_guard lock(seal_mutex_);
        if (result) {
          if (into->block != batch.block) arena_.Release(batch);
          msg->batches[i] = into->Sub(0, frame_size);
        } else {
          if (into && into->block != batch.block) arena_.Release(*into);
          if (!msg->failure) {
            msg->failure = errors_.Make(ErrorKind::kWorkerCrash, Stage::kEncrypt, "worker failed",
                                        result.error().message);
          }
        }
      }
      if (left->fetch_sub(1) == 1) {
        host_.Timed(Stage::kEncrypt, msg->stage_start, Clock::now(), *msg);
        gateway.try_put(msg);
        gateway.release_wait();
      }
    };
    if (!into) {
      done(tl::unexpected(
               workgroup::WorkError{workgroup::WorkErrc::kJob, "no arena block for a frame"}),
           -1, -1);
      continue;
    }
    Call(std::move(request), batch.length / 8, done);  // sealing runs ~8x faster than parsing
  }
}

void IsolatedStages::Call(workgroup::Request request, std::uint64_t cost,
                          std::function<void(workgroup::WorkResult, int, int)> done, int prefer) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < members_.size(); ++i) {
    if (member_load_[i].load() < member_load_[best].load()) best = i;
  }
  if (prefer >= 0 && static_cast<std::size_t>(prefer) < members_.size()) {
    best = static_cast<std::size_t>(prefer);
  }
  member_load_[best] += cost;
  const workgroup::MemberProxy& member = members_[best];
  member.Invoke(std::move(request), [this, best, cost, worker = member.worker(),
                                     done = std::move(done)](workgroup::WorkResult result) {
    member_load_[best] -= cost;
    done(std::move(result), worker, static_cast<int>(best));
  });
}

}  // namespace zcpipe::detail
