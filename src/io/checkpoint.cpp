#include "io/checkpoint.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "io/json_message.hpp"
#include "io/printable.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// An index lists one line per tensor: a few hundred kilobytes for the largest encoders. The bound
// is the safetensors header's.
constexpr uintmax_t max_index_bytes = 100'000'000;

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

// Names come from the file: escaped and bounded.
std::string in_quotes(std::string_view name) {
  return "'" + printable(name, 200) + "'";
}

std::string read_index_text(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(path, "not a regular file");
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot stat: " + ec.message());
  if (size > max_index_bytes) {
    fail(path, "is " + std::to_string(size) + " bytes, more than the limit of " +
                   std::to_string(max_index_bytes));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    fail(path,
         std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(path, "read error");
  return std::move(text).str();
}

json parse_index(const fs::path& path) {
  const std::string text = read_index_text(path);
  // nlohmann keeps the last of two equal keys, and a tensor listed twice may name two shards: keys
  // are collected per object during the parse.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  const json::parser_callback_t remember_keys = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !duplicate) {
      auto key = parsed.get<std::string>();
      if (!open_objects.back().insert(key).second) duplicate = std::move(key);
    }
    return true;
  };
  json root;
  try {
    root = json::parse(text, remember_keys);
  } catch (const json::exception& e) {
    fail(path, "not valid JSON: " + json_message(e));
  }
  if (!root.is_object())
    fail(path, std::string("must hold a JSON object, got ") + root.type_name());
  if (duplicate) fail(path, "names " + in_quotes(*duplicate) + " more than once");
  return root;
}

// A shard named by the index, relative to the index's folder and already normalized; rejects names
// that would read a file outside the model folder.
fs::path shard_path(const fs::path& index_path, const std::string& tensor, const json& shard) {
  if (!shard.is_string()) {
    fail(index_path, "weight_map entry of tensor " + in_quotes(tensor) +
                         " must be a file name, got " + printable_json(shard));
  }
  const auto& name = shard.get_ref<const std::string&>();
  const fs::path relative(name);
  const auto outside = [&](const std::string& why) {
    fail(index_path, "weight_map puts tensor " + in_quotes(tensor) + " in " + in_quotes(name) +
                         ", " + why + "; shards must lie inside the model folder");
  };
  if (name.empty()) outside("an empty file name");
  if (relative.has_root_path()) outside("an absolute path");
  for (const fs::path& part : relative) {
    if (part == "..") outside("a path through '..'");
  }
  return relative.lexically_normal();
}

// A symbolic link inside the folder may still lead out of it.
void check_inside(const fs::path& index_path, const fs::path& folder, const fs::path& shard) {
  std::error_code ec;
  const fs::path real_folder = fs::canonical(folder, ec);
  if (ec) return;
  const fs::path real_shard = fs::canonical(folder / shard, ec);
  if (ec) return;  // a missing shard is reported by SafetensorsFile::open, naming it
  const fs::path inside = real_shard.lexically_relative(real_folder);
  if (inside.empty() || *inside.begin() == "..") {
    fail(index_path, "shard " + in_quotes(shard.string()) + " is a link to " +
                         in_quotes(real_shard.string()) +
                         ", outside the model folder; shards must lie inside it");
  }
}

}  // namespace

Checkpoint Checkpoint::open_file(const fs::path& path) {
  Checkpoint checkpoint;
  checkpoint.path_ = path;
  checkpoint.files_.push_back(SafetensorsFile::open(path));
  return checkpoint;
}

Checkpoint Checkpoint::open_index(const fs::path& index_path) {
  const json root = parse_index(index_path);
  const auto map = root.find("weight_map");
  if (map == root.end()) fail(index_path, "has no field 'weight_map'");
  if (!map->is_object()) {
    fail(index_path, "field 'weight_map' must be an object of tensor name to shard file, got " +
                         printable_json(*map));
  }
  if (map->empty()) fail(index_path, "field 'weight_map' lists no tensors");

  const fs::path folder = index_path.parent_path().empty() ? "." : index_path.parent_path();
  std::map<std::string, fs::path> shard_of;  // tensor name -> shard
  std::map<fs::path, size_t> shards;         // shard -> its place in files_, sorted by name
  for (const auto& [tensor, shard] : map->items()) {
    const fs::path relative = shard_path(index_path, tensor, shard);
    shard_of.emplace(tensor, relative);
    shards.emplace(relative, 0);
  }

  Checkpoint checkpoint;
  checkpoint.path_ = index_path;
  for (auto& [shard, place] : shards) {
    check_inside(index_path, folder, shard);
    place = checkpoint.files_.size();
    checkpoint.files_.push_back(SafetensorsFile::open(folder / shard));
  }

  // The index and the shards' headers must tell the same story: each tensor in one shard, the one
  // weight_map names.
  std::map<std::string_view, const fs::path*> holder;
  for (const auto& [shard, place] : shards) {
    for (const TensorEntry& entry : checkpoint.files_[place].tensors()) {
      const auto [seen, first] = holder.emplace(entry.name, &shard);
      if (!first) {
        fail(index_path, "tensor " + in_quotes(entry.name) + " is in both shard " +
                             in_quotes(seen->second->string()) + " and shard " +
                             in_quotes(shard.string()));
      }
      const auto listed = shard_of.find(entry.name);
      if (listed == shard_of.end()) {
        fail(index_path, "shard " + in_quotes(shard.string()) + " holds tensor " +
                             in_quotes(entry.name) + ", which weight_map does not list");
      }
      if (listed->second != shard) {
        fail(index_path, "weight_map puts tensor " + in_quotes(entry.name) + " in " +
                             in_quotes(listed->second.string()) + ", but shard " +
                             in_quotes(shard.string()) + " holds it");
      }
    }
  }
  for (const auto& [tensor, shard] : shard_of) {
    if (!holder.contains(tensor)) {
      fail(index_path, "weight_map puts tensor " + in_quotes(tensor) + " in " +
                           in_quotes(shard.string()) + ", which does not hold it");
    }
  }
  return checkpoint;
}

Checkpoint Checkpoint::open_folder(const fs::path& folder) {
  const fs::path single = folder / "model.safetensors";
  const fs::path index = folder / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(single, ec)) return open_file(single);
  if (fs::exists(index, ec)) return open_index(index);
  for (const char* pickle : {"pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    if (fs::exists(folder / pickle, ec)) {
      fail(folder / pickle,
           "PyTorch pickle checkpoints are not read (unpickling can run code); convert it to "
           "model.safetensors with vecformer's tools/convert_bin.py (needs PyTorch): "
           "tools/convert_bin.py " +
               folder.string());
    }
  }
  return open_file(single);  // reports the missing model.safetensors
}

const SafetensorsFile* Checkpoint::file_of(std::string_view name) const {
  for (const SafetensorsFile& file : files_) {
    if (file.find(name)) return &file;
  }
  return nullptr;
}

const TensorEntry* Checkpoint::find(std::string_view name) const {
  const SafetensorsFile* file = file_of(name);
  return file ? file->find(name) : nullptr;
}

}  // namespace vecformer::detail
