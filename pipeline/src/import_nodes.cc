// Import's in-process graph nodes and the write stage's journal and publication (import_impl.h).
#include <algorithm>
#include <functional>

#include "import_impl.h"

namespace zcpipe::detail {

using stages::kChunkTagSize;
using stages::kFrameHeaderSize;

namespace {

// Whether `part` lies inside `block`.
bool Within(std::span<const std::byte> part, std::span<const std::byte> block) {
  const std::less_equal<const std::byte*> le;
  return le(block.data(), part.data()) &&
         le(part.data() + part.size(), block.data() + block.size());
}

}  // namespace

Msg Import::Read(oneapi::tbb::flow_control& control) {
  const auto since = Clock::now();
  if (cancel_.load() || failed_.load()) {
    if (first_block_) arena_->Release(*first_block_), first_block_.reset();
    control.stop();
    return {};
  }
  auto msg = std::make_shared<ChunkState>();
  msg->seq = next_seq_++;
  std::optional<stages::Chunk> chunk;
  if (first_block_) {  // read during set-up
    if (!first_chunk_->bytes.empty()) chunk = first_chunk_;
    msg->input = *first_block_;
    first_block_.reset();
  } else {
    auto block = arena_->Allocate(Stage::kRead, msg->seq);
    if (!block) {
      if (block.error().error) Fail(std::move(*block.error().error));
      control.stop();
      return {};
    }
    msg->input = *block;
    auto next = chunker_->Next(arena_->Bytes(*block).first(arena_->plan().chunk_room));
    if (!next) {
      Fail(errors_.Make(ErrorKind::kInput, Stage::kRead, "read failed", next.error().message));
    } else if (*next) {
      chunk = **next;
    }
  }
  msg->rejected = chunker_->TakeRejected();  // records dropped before this chunk
  bytes_in_.store(chunker_->bytes_read());
  msg->next.input_byte = chunker_->next_byte();
  msg->next.next_line = chunker_->next_line();
  msg->next.chunks = chunker_->next_index();
  if (!chunk) {
    arena_->Release(msg->input);
    msg->input = {};
    if (msg->rejected.empty() || failed_.load()) {
      control.stop();
      return {};
    }
  } else {
    msg->input = msg->input.Sub(0, static_cast<std::uint32_t>(chunk->bytes.size()));
    msg->index = chunk->index;
    msg->first_line = chunk->first_line;
    msg->first_byte = chunk->first_byte;
  }
  msg->rows_in = msg->rejected.size();
  Timed(Stage::kRead, since, *msg);
  return msg;
}

Msg Import::Parse(Msg msg) {
  if (!msg->input.valid() || failed_.load() || cancel_.load()) return msg;
  const auto since = Clock::now();
  stages::Chunk chunk{arena_->Bytes(msg->input), msg->index, msg->first_line, msg->first_byte};
  auto& parser = parsers_->local();
  while (!chunk.bytes.empty()) {
    auto block = arena_->Allocate(Stage::kParse, msg->seq, msg.get());
    if (!block) {
      if (block.error().error) Fail(std::move(*block.error().error));
      break;
    }
    auto parsed = parser.Parse(chunk, arena_->BatchRoom(*block));
    if (!parsed) {
      arena_->Release(*block);
      msg->failure =
          errors_.Make(ErrorKind::kStage, Stage::kParse, "batch too large", parsed.error().message);
      break;
    }
    msg->batches.push_back(arena_->HandleOf(*block, parsed->batch));
    msg->rows_in += parsed->rows_out + parsed->rejected.size();
    msg->rows_out += parsed->rows_out;
    for (auto& error : parsed->rejected) msg->rejected.push_back(std::move(error));
    chunk.bytes = chunk.bytes.subspan(parsed->bytes_consumed);
    chunk.first_byte += parsed->bytes_consumed;
    chunk.first_line += parsed->lines_consumed;
  }
  // Offsets inside a converted chunk are in its UTF-8 text: made the input's (stages::Chunker).
  stages::ToInputOffsets(chunker_->encoding(), arena_->Bytes(msg->input), msg->first_byte,
                         msg->rejected);
  arena_->Release(msg->input);
  msg->input = {};
  Timed(Stage::kParse, since, *msg);
  return msg;
}

Msg Import::Transform(Msg msg) {
  if (!config_.transform || msg->failure || failed_.load() || cancel_.load()) return msg;
  const auto since = Clock::now();
  std::vector<shm::Handle> outputs;
  msg->rows_out = 0;
  // Each batch's rows go into as many blocks as the transform's output needs (ApplyFrom).
  for (const auto& batch : msg->batches) {
    auto view = stages::BatchView::Open(arena_->Bytes(batch));
    std::uint32_t row = 0;
    do {
      auto block = arena_->Allocate(Stage::kTransform, msg->seq, msg.get());
      if (!block) {
        if (block.error().error) Fail(std::move(*block.error().error));
        break;
      }
      const auto room = arena_->BatchRoom(*block);
      auto out = config_.transform->ApplyFrom(*view, row, room, msg->rejected);
      const std::uint64_t covered =
          out ? std::uint64_t{out->rows_out} + out->rows_rejected + out->rows_filtered : 0;
      std::string problem =
          !out                        ? out.error().message
          : !Within(out->batch, room) ? "the transform returned a batch outside its block"
          : (covered == 0 && view->row_count() != 0) || row + covered > view->row_count()
              ? "the transform did not cover its rows"
              : "";
      if (!problem.empty()) {
        arena_->Release(*block);
        msg->failure = errors_.Make(ErrorKind::kStage, Stage::kTransform, "transform failed",
                                    errors_.input_name() + ":" + std::to_string(msg->first_line) +
                                        ": chunk " + std::to_string(msg->index) + ": " + problem);
        break;
      }
      outputs.push_back(arena_->HandleOf(*block, out->batch));
      msg->rows_out += out->rows_out;
      msg->rows_filtered += out->rows_filtered;
      row += static_cast<std::uint32_t>(covered);
    } while (row < view->row_count());
    if (msg->failure || failed_.load()) break;
  }
  for (const auto& batch : msg->batches) arena_->Release(batch);
  msg->batches = std::move(outputs);
  Timed(Stage::kTransform, since, *msg);
  return msg;
}

Msg Import::Number(Msg msg) {  // serial, in order: container frame indices are contiguous
  msg->first_frame = next_frame_;
  next_frame_ += msg->batches.size();
  for (std::size_t i = 0; i < msg->frames.size(); ++i) {
    auto& frame = msg->frames[i];
    if (!frame.handle.valid()) continue;        // not sealed: Encrypt or IsolatedStages seals it
    if (frame.index != msg->first_frame + i) {  // the index (nonce) of another batch: used twice
      msg->failure = errors_.Make(
          ErrorKind::kIntegrity, Stage::kEncrypt, "frame index reused",
          "chunk " + std::to_string(msg->index) + ": a worker sealed its batch " +
              std::to_string(i) + " as frame " + std::to_string(frame.index) + ", not " +
              std::to_string(msg->first_frame + i) + ": an index (AES-GCM nonce) used twice");
      return msg;
    }
    msg->batches[i] = frame.handle;
    msg->taken[i] = std::move(frame.bytes);
  }
  return msg;
}

Msg Import::Encrypt(Msg msg) {
  if (msg->failure || failed_.load() || cancel_.load()) return msg;
  const auto since = Clock::now();
  for (std::size_t i = 0; i < msg->batches.size(); ++i) {
    const auto batch = arena_->Bytes(msg->batches[i]);
    // In place: the frame header goes right before the batch, the tag right after it.
    const std::span<std::byte> frame(batch.data() - kFrameHeaderSize,
                                     batch.size() + kFrameHeaderSize + kChunkTagSize);
    auto sealed = writer_->sealer().Seal(msg->first_frame + i, false, batch, frame);
    if (!sealed) {
      msg->failure = errors_.Make(ErrorKind::kStage, Stage::kEncrypt, "encryption failed",
                                  stages::Describe(sealed.error()));
      break;
    }
    shm::Handle& handle = msg->batches[i];  // now names the sealed frame
    handle.offset -= kFrameHeaderSize;
    handle.length = static_cast<std::uint32_t>(frame.size());
  }
  Timed(Stage::kEncrypt, since, *msg);
  return msg;
}

void Import::Reject(ChunkState& chunk) {
  std::stable_sort(chunk.rejected.begin(), chunk.rejected.end(),
                   [](const auto& a, const auto& b) { return a.line < b.line; });
  for (auto& input : chunk.rejected) {
    const stages::RawEcho echo = redactor_.Redact(input);
    ErrorEvent error = errors_.FromInput(input, chunk.seq);
    if (config_.on_error == ErrorPolicy::kFail) return Fail(std::move(error));
    if (config_.on_error == ErrorPolicy::kQuarantine) {
      if (auto appended = quarantine_->Append(input, echo); !appended) {
        return Fail(errors_.Write(config_.rejects, appended.error()));
      }
    }
    channel_.PublishError(std::move(error));
  }
}

void Import::Write(const Msg& msg) {  // serial, in input order
  const auto since = Clock::now();
  ChunkState& chunk = *msg;
  if (!failed_.load() && !cancel_.load()) {
    Reject(chunk);
    if (chunk.failure) Fail(*chunk.failure);
  }
  if (!failed_.load() && !cancel_.load()) {
    for (std::size_t i = 0; i < chunk.batches.size(); ++i) {
      // Isolated: the copy checked when taken, never the arena's (workers can still write it).
      const std::span<const std::byte> bytes =
          isolated_ ? std::span<const std::byte>(chunk.taken[i]) : arena_->Bytes(chunk.batches[i]);
      if (writer_) {
        if (auto appended = writer_->Append(bytes); !appended) {
          Fail(errors_.Write(config_.output, appended.error()));
          break;
        }
      } else {
        try {  // the caller's sink may throw: its error fails the job
          config_.batch_sink(stages::BatchView::Open(bytes).value());
        } catch (const std::exception& e) {
          Fail(errors_.Make(ErrorKind::kStage, Stage::kWrite, "sink failed", e.what()));
          break;
        }
      }
    }
    rows_in_ += chunk.rows_in;
    rows_out_ += chunk.rows_out;
    rows_rejected_ += chunk.rejected.size();
    rows_filtered_ += chunk.rows_filtered;
    ++chunks_done_;
    written_to_ = chunk.next;
    if (committer_ && committer_->Due()) Commit();
  }
  Timed(Stage::kWrite, since, chunk);
  arena_->ReleaseAll(chunk);
  arena_->Advance(chunk.seq + 1);
  if (trace_) {
    const auto now = Clock::now();
    trace_->Counter("chunks in flight", now,
                    static_cast<double>(stage_chunks_[static_cast<std::size_t>(Stage::kRead)] -
                                        stage_chunks_[static_cast<std::size_t>(Stage::kWrite)]));
    trace_->Counter("arena bytes in use", now, static_cast<double>(arena_->bytes_in_use()));
  }
  channel_.PublishProgress(Snapshot(false));
}

JournalPoint Import::Covered() const {
  JournalPoint point = written_to_;
  point.rows_in = rows_in_;
  point.rows_out = rows_out_;
  point.rows_rejected = rows_rejected_;
  point.rows_filtered = rows_filtered_;
  return point;
}

void Import::Commit() {
  if (auto committed = committer_->Commit(Covered()); !committed) {
    Fail(errors_.Write(config_.rejects, committed.error()));
  }
}

bool Import::KeepForResume() {
  if (!config_.resume || !cancel_.load() || failed_.load() || !committer_ || !writer_) {
    return false;
  }
  return committer_->KeepForResume(Covered());  // the committer stopped: the journal's last
}

void Import::PublishFiles() {
  if (writer_) {  // the final frame: empty, flagged last
    if (auto last = writer_->Write({}, true); !last) {
      return Fail(errors_.Write(config_.output, last.error()));
    }
  }
  if (trace_file_) {
    const std::string json = trace_->Json();
    if (auto written = trace_file_->Write(std::as_bytes(std::span(json))); !written) {
      return Fail(errors_.Write(config_.trace, written.error()));
    }
  }
  std::vector<const std::filesystem::path*> published;
  const auto publish = [&](const std::filesystem::path& path, stages::ContainerStatus done) {
    if (!done) {
      Fail(errors_.Write(path, done.error()));
      std::error_code ignored;
      for (const auto* earlier : published) std::filesystem::remove(*earlier, ignored);
      return false;
    }
    published.push_back(&path);
    return true;
  };
  (!quarantine_ || publish(config_.rejects, quarantine_->Publish())) &&
      (!trace_file_ || publish(config_.trace, trace_file_->Commit())) &&
      (!writer_ || publish(config_.output, writer_->Commit()));
  if (!failed_.load() && committer_) committer_->Remove();
}

}  // namespace zcpipe::detail
