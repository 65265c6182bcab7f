#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/checkpoint.hpp"
#include "support/temp_path.hpp"
#include "vecformer/error.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vecformer::detail::Checkpoint;
using vecformer::test::TempPath;

void write_raw(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A .safetensors file holding F32 tensors of shape [2], named `names`, with values 1, 2, 3, ... in
// order.
void write_shard(const fs::path& path, const std::vector<std::string>& names) {
  json header = json::object();
  std::string data;
  float next = 1.0f;
  for (const std::string& name : names) {
    header[name] = {
        {"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {data.size(), data.size() + 8}}};
    for (int i = 0; i < 2; ++i, next += 1.0f) {
      char bytes[4];
      std::memcpy(bytes, &next, 4);
      data.append(bytes, 4);
    }
  }
  const std::string text = header.dump();
  std::string length(8, '\0');
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  write_raw(path, length + text + data);
}

// A model folder with two shards and the index Hugging Face writes for them.
class ShardedFolder {
 public:
  ShardedFolder() : temp_("sharded") {
    fs::create_directories(folder());
    write_shard(folder() / first, {"a", "b"});
    write_shard(folder() / second, {"c"});
    weight_map_ = {{"a", first}, {"b", first}, {"c", second}};
    write_index();
  }
  const fs::path& folder() const { return temp_.path(); }
  fs::path index() const { return folder() / "model.safetensors.index.json"; }
  json& weight_map() { return weight_map_; }
  void write_index() const {
    write_raw(index(),
              json{{"metadata", {{"total_size", 24}}}, {"weight_map", weight_map_}}.dump());
  }

  static constexpr const char* first = "model-00001-of-00002.safetensors";
  static constexpr const char* second = "model-00002-of-00002.safetensors";

 private:
  TempPath temp_;
  json weight_map_;
};

// A valid shard holding tensor "c", in a folder of its own outside the model folder.
fs::path write_outside_shard(const TempPath& outside) {
  fs::create_directories(outside.path());
  write_shard(outside.path() / "x.safetensors", {"c"});
  return outside.path() / "x.safetensors";
}

// Opening the folder must throw one line naming `file` and containing every needle.
void require_rejected(const fs::path& folder, const fs::path& file,
                      const std::vector<std::string>& needles) {
  try {
    (void)Checkpoint::open_folder(folder);
    FAIL("opened without error");
  } catch (const vecformer::Error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.rfind(file.string() + ": ", 0) == 0);
    CHECK(message.find('\n') == std::string::npos);
    for (const std::string& needle : needles) CHECK(message.find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("a sharded checkpoint finds every tensor in the shard that holds it",
          "[io][checkpoint]") {
  const ShardedFolder sharded;
  const Checkpoint checkpoint = Checkpoint::open_folder(sharded.folder());
  CHECK(checkpoint.path() == sharded.index());
  REQUIRE(checkpoint.files().size() == 2);
  REQUIRE(checkpoint.file_of("a") != nullptr);
  CHECK(checkpoint.file_of("a")->path() == sharded.folder() / ShardedFolder::first);
  CHECK(checkpoint.file_of("c")->path() == sharded.folder() / ShardedFolder::second);
  CHECK(checkpoint.file_of("d") == nullptr);
  CHECK(checkpoint.find("d") == nullptr);
  const auto* c = checkpoint.find("c");
  REQUIRE(c != nullptr);
  CHECK(checkpoint.file_of("c")->to_float(*c) == std::vector<float>{1.0f, 2.0f});
  CHECK(checkpoint.file_of("b")->to_float(*checkpoint.find("b")) == std::vector<float>{3.0f, 4.0f});
}

TEST_CASE("a single model.safetensors wins over an index beside it", "[io][checkpoint]") {
  const ShardedFolder sharded;
  write_shard(sharded.folder() / "model.safetensors", {"only"});
  const Checkpoint checkpoint = Checkpoint::open_folder(sharded.folder());
  CHECK(checkpoint.path() == sharded.folder() / "model.safetensors");
  CHECK(checkpoint.find("only") != nullptr);
  CHECK(checkpoint.find("a") == nullptr);
}

TEST_CASE("a sharded checkpoint's index is validated", "[io][checkpoint]") {
  ShardedFolder sharded;
  const fs::path& folder = sharded.folder();
  const fs::path index = sharded.index();

  SECTION("not JSON") {
    write_raw(index, "{\"weight_map\": {");
    require_rejected(folder, index, {"not valid JSON"});
  }
  SECTION("not an object") {
    write_raw(index, "[1, 2]");
    require_rejected(folder, index, {"must hold a JSON object, got array"});
  }
  SECTION("no weight_map") {
    write_raw(index, R"({"metadata": {}})");
    require_rejected(folder, index, {"no field 'weight_map'"});
  }
  SECTION("weight_map not an object") {
    write_raw(index, R"({"weight_map": ["a"]})");
    require_rejected(folder, index, {"'weight_map' must be an object", "[\"a\"]"});
  }
  SECTION("weight_map empty") {
    write_raw(index, R"({"weight_map": {}})");
    require_rejected(folder, index, {"lists no tensors"});
  }
  SECTION("shard not a string") {
    sharded.weight_map()["b"] = 7;
    sharded.write_index();
    require_rejected(folder, index, {"tensor 'b'", "must be a file name, got 7"});
  }
  SECTION("a tensor listed twice") {
    write_raw(index, std::string(R"({"weight_map": {"a": ")") + ShardedFolder::first +
                         R"(", "b": ")" + ShardedFolder::first + R"(", "c": ")" +
                         ShardedFolder::second + R"(", "a": ")" + ShardedFolder::second + R"("}})");
    require_rejected(folder, index, {"'a' more than once"});
  }
  SECTION("an empty shard name") {
    sharded.weight_map()["c"] = "";
    sharded.write_index();
    require_rejected(folder, index, {"tensor 'c'", "empty file name", "inside the model folder"});
  }
  SECTION("an absolute shard path") {
    const TempPath outside("outside-shard");
    sharded.weight_map()["c"] = write_outside_shard(outside).string();
    sharded.write_index();
    require_rejected(folder, index, {"tensor 'c'", "absolute path", "inside the model folder"});
  }
  SECTION("a shard path through ..") {
    fs::create_directories(folder / "sub");
    sharded.weight_map()["c"] = std::string("sub/../../") + ShardedFolder::second;
    sharded.write_index();
    require_rejected(folder, index, {"tensor 'c'", "through '..'", "inside the model folder"});
  }
  SECTION("a shard that is a link out of the folder") {
    const TempPath outside("outside-shard");
    fs::remove(folder / ShardedFolder::second);
    fs::create_symlink(write_outside_shard(outside), folder / ShardedFolder::second);
    require_rejected(folder, index, {ShardedFolder::second, "link to", "outside the model folder"});
  }
  SECTION("a link inside the folder is followed") {
    fs::create_directories(folder / "blobs");
    fs::rename(folder / ShardedFolder::second, folder / "blobs" / "c");
    fs::create_symlink(fs::path("blobs") / "c", folder / ShardedFolder::second);
    CHECK(Checkpoint::open_folder(folder).find("c") != nullptr);
  }
  SECTION("a missing shard") {
    fs::remove(folder / ShardedFolder::second);
    require_rejected(folder, folder / ShardedFolder::second, {"cannot open"});
  }
  SECTION("a corrupt shard") {
    write_raw(folder / ShardedFolder::second, "1234");
    require_rejected(folder, folder / ShardedFolder::second, {"too short"});
  }
  SECTION("a tensor in two shards") {
    write_shard(folder / ShardedFolder::second, {"c", "a"});
    require_rejected(folder, index,
                     {"tensor 'a' is in both", ShardedFolder::first, ShardedFolder::second});
  }
  SECTION("a shard's tensor that weight_map does not list") {
    sharded.weight_map().erase("b");
    sharded.write_index();
    require_rejected(folder, index, {ShardedFolder::first, "tensor 'b'", "does not list"});
  }
  SECTION("weight_map naming the wrong shard") {
    sharded.weight_map()["b"] = ShardedFolder::second;
    sharded.write_index();
    require_rejected(folder, index, {"tensor 'b'", "but shard", ShardedFolder::first, "holds it"});
  }
  SECTION("weight_map listing a tensor no shard holds") {
    sharded.weight_map()["d"] = ShardedFolder::second;
    sharded.write_index();
    require_rejected(folder, index, {"tensor 'd'", ShardedFolder::second, "does not hold it"});
  }
}

TEST_CASE("a folder with only pytorch_model.bin names the converter", "[io][checkpoint]") {
  const TempPath temp("pickle");
  fs::create_directories(temp.path());
  SECTION("nothing at all") {
    require_rejected(temp.path(), temp.path() / "model.safetensors", {"cannot open"});
  }
  SECTION("pytorch_model.bin") {
    write_raw(temp.path() / "pytorch_model.bin", "PK");
    require_rejected(temp.path(), temp.path() / "pytorch_model.bin",
                     {"not read", "tools/convert_bin.py " + temp.path().string()});
  }
}
