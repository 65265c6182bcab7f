// The RoBERTa family (and XLM-RoBERTa): BERT's tensor layout under an optional "roberta." prefix,
// with positions numbered from pad_token_id + 1 as Hugging Face's RobertaEmbeddings does for
// unpadded input.
#include "model/checkpoint_reader.hpp"
#include "model/family.hpp"

namespace vecformer::detail {

Config read_roberta_config(const ConfigReader& reader) {
  Config config = read_bert_config(reader);
  // ALiBi and the GLU layers are JinaBERT's (model_type bert): no RoBERTa checkpoint has them.
  if (config.position_embedding_type == PositionEmbedding::alibi) {
    reader.fail(
        "field 'position_embedding_type' \"alibi\" is a JinaBERT option (model_type bert), "
        "not RoBERTa's");
  }
  if (config.feed_forward != FeedForward::plain) {
    reader.fail("field 'feed_forward_type' is a JinaBERT option (model_type bert), not RoBERTa's");
  }
  const int64_t pad_token_id = reader.non_negative_int("pad_token_id", 1, max_vocab_size);
  config.position_offset = pad_token_id + 1;
  if (config.position_embedding_type == PositionEmbedding::learned && config.max_length() <= 0) {
    reader.fail("field 'max_position_embeddings' (" +
                std::to_string(config.max_position_embeddings) +
                ") leaves no positions after pad_token_id + 1 (" +
                std::to_string(config.position_offset) + ")");
  }
  return config;
}

EncoderWeights load_roberta_weights(const Config& config, const Checkpoint& checkpoint) {
  return load_bert_layout(
      config, checkpoint,
      detect_prefix(checkpoint, "embeddings.word_embeddings.weight", "roberta."));
}

}  // namespace vecformer::detail
