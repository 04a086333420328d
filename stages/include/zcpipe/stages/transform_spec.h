// Built-in transforms from their command-line text form: `--transform cast=amount:float64`.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "zcpipe/stages/transform.h"

namespace zcpipe::stages {

// Makes the built-in transform `kind` from its text spec. Kinds and specs:
//   select  "id,amount"                     keep these columns, in this order
//   rename  "old:new,old2:new2"
//   cast    "amount:float64,id:string"      types: int64 float64 bool string timestamp
//   filter  "amount >= 10.5 and (country == 'DE' or country == \"FR\") and not flag == true"
//   hash    "email,phone"                   HMAC-SHA-256 with `key`
//   mask    "card:keep_last=4,name"         keep_last defaults to 0
// Whitespace around names is ignored. `key` is the job's 32-byte hashing key; hash requires it
// (and should get a key of its own, not the encryption key), the other kinds ignore it.
// Other kinds are those registered with RegisterTransformKind. The result's recipe() names
// the call, so that a worker process can make the same transform.
// Throws std::invalid_argument naming the kind and the bad part (configuration time).
[[nodiscard]] std::unique_ptr<Transform> ParseTransform(std::string_view kind,
                                                        std::string_view spec,
                                                        std::span<const std::byte> key = {});

// Makes a user transform available to ParseTransform (and so to isolated stages, which rebuild
// transforms by name in worker processes) as `kind`. Register it the same way in every process
// of the program (see zcpipe/workgroup/worker.h); a built-in kind cannot be replaced.
// Thread-safe. Returns true.
using TransformFactory = std::function<std::unique_ptr<Transform>(std::string_view spec)>;
bool RegisterTransformKind(const std::string& kind, TransformFactory factory);

}  // namespace zcpipe::stages
