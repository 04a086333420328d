#include "worker_registry.h"

#include <mutex>
#include <unordered_map>

namespace zcpipe::workgroup {
namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<std::string, TaskFunction> tasks;
  std::unordered_map<std::string, MemberFactory> members;
};

Registry& TheRegistry() {
  static Registry registry;  // constructed on first use: safe from other static initialisers
  return registry;
}

template <class Map>
auto Find(Map& map, const std::string& name) -> std::optional<typename Map::mapped_type> {
  std::lock_guard lock(TheRegistry().mutex);
  const auto it = map.find(name);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

}  // namespace

bool RegisterTask(const std::string& name, TaskFunction task) {
  std::lock_guard lock(TheRegistry().mutex);
  TheRegistry().tasks[name] = std::move(task);
  return true;
}

bool RegisterMember(const std::string& name, MemberFactory factory) {
  std::lock_guard lock(TheRegistry().mutex);
  TheRegistry().members[name] = std::move(factory);
  return true;
}

namespace detail {

std::optional<TaskFunction> FindTask(const std::string& name) {
  return Find(TheRegistry().tasks, name);
}

std::optional<MemberFactory> FindMember(const std::string& name) {
  return Find(TheRegistry().members, name);
}

}  // namespace detail
}  // namespace zcpipe::workgroup
