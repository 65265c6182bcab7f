// The encoder graph on both backends: optimized against reference on random configurations, and the
// properties that any correct encoder has (batch independence, permutation equivariance, thread
// count independence).
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>

#include "encoder/encoder.hpp"
#include "support/random_model.hpp"

using namespace vecformer;
using test::RandomModelSpec;

namespace {

std::vector<float> run_encoder(const detail::Encoder& encoder, const std::vector<Sequence>& seqs,
                               int threads = 2) {
  const auto batch = detail::Batch::pack(seqs, encoder.config());
  std::vector<float> hidden(batch.tokens() * encoder.config().hidden_size);
  encoder.forward(batch, hidden.data(), detail::execution_for(threads));
  return hidden;
}

detail::Encoder make_encoder(const detail::EncoderWeights& weights, bool optimized) {
  return detail::Encoder(
      weights, optimized ? detail::make_optimized_backend() : detail::make_reference_backend());
}

}  // namespace

TEST_CASE("optimized encoder matches the reference on random configurations", "[encoder]") {
  const std::vector<int64_t> head_dims = {8, 12, 24, 33, 64, 96};
  const std::vector<Activation> activations = {Activation::gelu_erf, Activation::gelu_tanh,
                                               Activation::relu};
  const std::vector<PositionEmbedding> positions = {PositionEmbedding::learned,
                                                    PositionEmbedding::sinusoidal};
  uint32_t seed = 1;
  for (size_t i = 0; i < head_dims.size(); ++i) {
    for (bool norm_first : {false, true}) {
      RandomModelSpec spec;
      spec.head_dim = head_dims[i];
      spec.heads = 1 + static_cast<int64_t>(i % 3);
      spec.layers = 1 + static_cast<int64_t>((i + norm_first) % 3);
      spec.intermediate = 2 * spec.heads * spec.head_dim + 5;
      spec.activation = activations[(i + norm_first) % activations.size()];
      spec.positions = positions[(i / 2 + norm_first) % positions.size()];
      spec.norm_first = norm_first;
      spec.embedding_norm = !norm_first;
      spec.final_norm = norm_first || i % 2 == 0;  // a final norm after post-norm layers too
      const auto weights = test::random_weights(spec, seed++);
      std::mt19937 rng(seed++);
      const auto seqs = test::random_sequences(rng, {1, 7, 16, 33, 2}, spec.vocab, spec.type_vocab);

      const auto reference = run_encoder(make_encoder(weights, false), seqs);
      const auto optimized = run_encoder(make_encoder(weights, true), seqs);
      INFO("head_dim " << spec.head_dim << " heads " << spec.heads << " layers " << spec.layers
                       << " norm_first " << norm_first << " activation "
                       << to_string(spec.activation));
      // Outputs are layer-normed, O(1). float32 GEMMs with K up to ~600 against double-accumulated
      // reference sums: errors of a few 1e-6 per layer; 1e-4 leaves room for 3 layers of growth.
      CHECK(test::max_abs_diff(reference, optimized) < 1e-4f);
    }
  }
}

TEST_CASE("a sequence's output does not depend on the rest of its batch", "[encoder][property]") {
  RandomModelSpec spec;
  spec.layers = 2;
  const auto weights = test::random_weights(spec, 7);
  std::mt19937 rng(8);
  const auto batch = test::random_sequences(rng, {5, 12, 1, 9}, spec.vocab, spec.type_vocab);
  const int64_t hidden = spec.heads * spec.head_dim;

  for (bool optimized : {false, true}) {
    const auto encoder = make_encoder(weights, optimized);
    const auto together = run_encoder(encoder, batch);
    int64_t offset = 0;
    for (const Sequence& s : batch) {
      const auto alone = run_encoder(encoder, {s});
      const std::vector<float> slice(together.begin() + offset * hidden,
                                     together.begin() + (offset + s.input_ids.size()) * hidden);
      offset += static_cast<int64_t>(s.input_ids.size());
      if (optimized) {
        // oneDNN may block the GEMM differently for another row count: rounding-level differences.
        CHECK(test::max_abs_diff(alone, slice) < 1e-5f);
      } else {
        CHECK(alone == slice);  // the reference computes row by row: identical bits
      }
    }
  }
}

TEST_CASE("without positions, permuting the tokens permutes the outputs", "[encoder][property]") {
  RandomModelSpec spec;
  spec.positions = PositionEmbedding::none;
  spec.type_vocab = 0;
  spec.layers = 2;
  const auto weights = test::random_weights(spec, 11);
  std::mt19937 rng(12);
  auto seqs = test::random_sequences(rng, {13}, spec.vocab, 0);
  seqs[0].token_type_ids.clear();
  std::vector<size_t> order(13);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  Sequence permuted;
  for (size_t i : order) permuted.input_ids.push_back(seqs[0].input_ids[i]);
  const int64_t hidden = spec.heads * spec.head_dim;

  for (bool optimized : {false, true}) {
    const auto encoder = make_encoder(weights, optimized);
    const auto original = run_encoder(encoder, seqs);
    const auto shuffled = run_encoder(encoder, {permuted});
    std::vector<float> expected;
    for (size_t i : order) {
      expected.insert(expected.end(), original.begin() + i * hidden,
                      original.begin() + (i + 1) * hidden);
    }
    // Softmax and weighted sums add the same terms in another order: rounding-level differences.
    CHECK(test::max_abs_diff(expected, shuffled) < 1e-5f);
  }
}

TEST_CASE("one and two threads agree", "[encoder][property]") {
  RandomModelSpec spec;
  spec.layers = 2;
  spec.head_dim = 24;
  spec.heads = 3;
  const auto weights = test::random_weights(spec, 21);
  std::mt19937 rng(22);
  const auto seqs = test::random_sequences(rng, {31, 1, 17, 64}, spec.vocab, spec.type_vocab);
  const auto encoder = make_encoder(weights, true);
  std::vector<float> one, two;
  one = run_encoder(encoder, seqs, 1);
  two = run_encoder(encoder, seqs, 2);
  // Row kernels and attention blocks compute each output in one thread; only oneDNN may split a
  // GEMM's reduction differently, which changes rounding, not values.
  CHECK(test::max_abs_diff(one, two) < 1e-5f);
}

TEST_CASE("batch packing rejects invalid sequences naming them", "[encoder][batch]") {
  const Config config = test::config_of(RandomModelSpec{});
  auto check = [&](std::vector<Sequence> seqs, const char* fragment) {
    REQUIRE_THROWS_WITH(detail::Batch::pack(seqs, config), Catch::Contains(fragment));
  };
  check({Sequence{{1, 2}, {}}, Sequence{{}, {}}}, "sequence 1: is empty");
  check({Sequence{{1, 50}, {}}}, "id 50");
  check({Sequence{{1, -1}, {}}}, "id -1");
  check({Sequence{{1, 2}, {0}}}, "1 token_type_ids for 2 input_ids");
  check({Sequence{{1, 2}, {0, 2}}}, "type id 2");
  check({Sequence{std::vector<int64_t>(65, 1), {}}}, "more than the model's maximum (64)");
  const auto batch = detail::Batch::pack(
      std::vector<Sequence>{Sequence{{3, 4, 5}, {}}, Sequence{{6}, {1}}}, config);
  CHECK(batch.tokens() == 4);
  CHECK(batch.offsets()[1] == 3);
  CHECK(batch.positions()[2] == 2);
  CHECK(batch.positions()[3] == 0);
  CHECK(batch.type_ids()[3] == 1);
}
