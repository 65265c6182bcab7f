#include "vecformer/config.hpp"

namespace vecformer {

// The spellings are those config.json uses, so a printed config can be read back.
std::string_view to_string(Activation activation) {
  switch (activation) {
    case Activation::gelu_erf:
      return "gelu";
    case Activation::gelu_tanh:
      return "gelu_new";
    case Activation::relu:
      return "relu";
    case Activation::silu:
      return "silu";
  }
  return "unknown";  // only for a value cast from an out-of-range integer
}

std::string_view to_string(PositionEmbedding position) {
  switch (position) {
    case PositionEmbedding::learned:
      return "absolute";
    case PositionEmbedding::sinusoidal:
      return "sinusoidal";
    case PositionEmbedding::none:
      return "none";
    case PositionEmbedding::rotary:
      return "rotary";
    case PositionEmbedding::alibi:
      return "alibi";
  }
  return "unknown";  // only for a value cast from an out-of-range integer
}

std::string_view to_string(FeedForward feed_forward) {
  switch (feed_forward) {
    case FeedForward::plain:
      return "plain";
    case FeedForward::gated:
      return "gated";
  }
  return "unknown";  // only for a value cast from an out-of-range integer
}

}  // namespace vecformer
