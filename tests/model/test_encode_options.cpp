// EncodeOptions are validated at the API edge, and a rejected call leaves the Model usable.
#include <omp.h>

#include <catch2/catch.hpp>

#include "vecformer/error.hpp"
#include "vecformer/model.hpp"

using namespace vecformer;

TEST_CASE("thread counts outside 0..1024 are rejected, the caller's OpenMP state kept",
          "[model][options]") {
  const Model model = Model::load(std::string(VECFORMER_SOURCE_DIR) + "/models/tiny-bert");
  const std::vector<Sequence> batch = {{{101, 7, 88, 102}, {}}};
  const Tensor before = model.encode(batch);
  const int threads = omp_get_max_threads();
  const int dynamic = omp_get_dynamic();

  for (int bad : {-1, 1025, 100000}) {
    EncodeOptions options;
    options.threads = bad;
    INFO("threads " << bad);
    REQUIRE_THROWS_WITH(model.encode(batch, options),
                        Catch::Contains("EncodeOptions::threads must be 0") &&
                            Catch::Contains(std::to_string(bad)));
  }
  EncodeOptions one;
  one.threads = 1;
  CHECK(model.encode(batch, one).data.size() == before.data.size());
  CHECK(model.encode(batch).data == before.data);  // still the same bits after the rejections
  CHECK(omp_get_max_threads() == threads);
  CHECK(omp_get_dynamic() == dynamic);
}

TEST_CASE("a caller with dynamic OpenMP teams gets the same bits and keeps its setting",
          "[model][options]") {
  const Model model = Model::load(std::string(VECFORMER_SOURCE_DIR) + "/models/tiny-bert");
  const std::vector<Sequence> batch = {{{101, 7, 88, 102, 5, 6, 7, 8, 9}, {}}, {{3}, {}}};
  const Tensor expected = model.encode(batch);
  omp_set_dynamic(1);
  const Tensor dynamic = model.encode(batch);
  CHECK(omp_get_dynamic() == 1);  // restored for the caller
  omp_set_dynamic(0);
  CHECK(dynamic.data == expected.data);
}
