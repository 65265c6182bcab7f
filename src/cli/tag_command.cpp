// `vecformer tag`: a token-classification head (NER, POS) on every line: each token's label and
// score with its character offsets, the logits of every token, and the entities aggregated as
// Hugging Face's token-classification pipeline does (--aggregation).
#include <chrono>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/head_common.hpp"
#include "heads/token_aggregation.hpp"

namespace vecformer::cli {

namespace {

struct TagOptions {
  HeadOptions head;
  std::string aggregation = "none";
};

detail::Aggregation parse_aggregation(const std::string& name) {
  if (name == "simple") return detail::Aggregation::simple;
  if (name == "first") return detail::Aggregation::first;
  if (name == "max") return detail::Aggregation::max;
  if (name == "average") return detail::Aggregation::average;
  return detail::Aggregation::none;
}

enum class Decoder { wordpiece, byte_level, metaspace };

// Which decoder the tokenizer's tokens need, from its vocabulary: WordPiece marks continuations
// with "##" (the only one the pipeline treats as word-aware), byte-level BPE spells a leading space
// "Ġ", SentencePiece "▁".
Decoder decoder_of(const Tokenizer& tokenizer) {
  // Counted, not the first one seen: a WordPiece vocabulary may hold a stray "Ġ" token and a
  // byte-level one a "##".
  int64_t continuations = 0, byte_level = 0, metaspace = 0;
  for (size_t id = 0; id < tokenizer.vocab_size(); ++id) {
    const std::string& token = tokenizer.id_to_token(static_cast<int64_t>(id));
    if (token.starts_with("\u0120")) ++byte_level;
    if (token.starts_with("\u2581")) ++metaspace;
    if (token.size() > 2 && token.starts_with("##")) ++continuations;
  }
  if (continuations > byte_level && continuations > metaspace) return Decoder::wordpiece;
  return metaspace > byte_level ? Decoder::metaspace : Decoder::byte_level;
}

void append_offset(std::string& line, int64_t value) {
  line += value < 0 ? "null" : std::to_string(value);
}

int tag(const TagOptions& o) {
  const HeadOptions& options = o.head;
  warn_if_oversubscribed(options.threads);
  const auto start = std::chrono::steady_clock::now();
  const Model model = load_head_model(options, HeadKind::token_classification);
  const Tokenizer tokenizer = load_tokenizer(model);
  std::vector<InputLine> lines = read_input_lines(options, model, &tokenizer, false);
  const std::vector<std::string>& labels = model.info().head.labels;
  const auto count = static_cast<int64_t>(labels.size());
  const Decoder decoder = decoder_of(tokenizer);
  const bool word_aware = decoder == Decoder::wordpiece;
  const detail::TokensToString to_string =
      decoder == Decoder::wordpiece   ? &detail::wordpiece_tokens_to_string
      : decoder == Decoder::metaspace ? &detail::metaspace_tokens_to_string
                                      : &detail::byte_level_tokens_to_string;
  const int64_t unk_id = tokenizer.unk_token().id;
  if (!options.text) {
    // Token ids: their vocabulary strings, the tokenizer's special tokens marked, no offsets.
    std::vector<int64_t> specials;
    for (const Tokenizer::Special& s :
         {tokenizer.cls_token(), tokenizer.sep_token(), tokenizer.pad_token()}) {
      if (s.id >= 0) specials.push_back(s.id);
    }
    for (InputLine& line : lines) {
      for (const int64_t id : line.sequence.input_ids) {
        line.tokens.push_back(static_cast<size_t>(id) < tokenizer.vocab_size()
                                  ? tokenizer.id_to_token(id)
                                  : std::string());
        line.special.push_back(std::find(specials.begin(), specials.end(), id) != specials.end());
        line.offsets.emplace_back(0, 0);
      }
    }
  }

  EncodeOptions encode;
  encode.threads = options.threads;
  const detail::Aggregation aggregation = parse_aggregation(o.aggregation);
  JsonLinesOutput output(options.output);
  size_t begin = 0;
  for (const size_t end : line_batches(lines)) {
    const TokenLabelScores result = model.classify_tokens(sequences_of(lines, begin, end), encode);
    for (size_t i = begin; i < end; ++i) {
      const InputLine& in = lines[i];
      const int64_t row = result.offsets[i - begin];
      const float* scores = result.scores.data.data() + row * count;
      const float* logits = result.logits.data.data() + row * count;
      const std::vector<detail::PreEntity> pre =
          detail::gather_pre_entities(in.text, in.sequence.input_ids, in.tokens, in.offsets,
                                      in.special, scores, count, word_aware, unk_id, options.text);
      std::string line = "{\"tokens\": [";
      for (size_t t = 0; t < pre.size(); ++t) {
        const detail::PreEntity& p = pre[t];
        const int64_t best = std::max_element(p.scores, p.scores + count) - p.scores;
        if (t) line += ", ";
        line += "{\"index\": " + std::to_string(p.index) +
                ", \"token\": " + json_string(in.tokens[p.index]) + ", \"start\": ";
        append_offset(line, p.start);
        line += ", \"end\": ";
        append_offset(line, p.end);
        line += ", \"label\": " + json_string(labels[best]) + ", \"score\": ";
        append_float(line, p.scores[best]);
        line += '}';
      }
      line += "], \"logits\": [";
      const auto length = static_cast<int64_t>(in.sequence.input_ids.size());
      for (int64_t t = 0; t < length; ++t) {
        if (t) line += ", ";
        append_floats(line, logits + t * count, count);
      }
      line += "], \"entities\": [";
      const std::vector<detail::Entity> entities =
          detail::aggregate_entities(pre, labels, aggregation, to_string);
      for (size_t e = 0; e < entities.size(); ++e) {
        const detail::Entity& entity = entities[e];
        if (e) line += ", ";
        line += "{\"entity_group\": " + json_string(entity.entity_group) +
                ", \"word\": " + json_string(entity.word) + ", \"start\": ";
        append_offset(line, entity.start);
        line += ", \"end\": ";
        append_offset(line, entity.end);
        line += ", \"score\": ";
        append_float(line, entity.score);
        if (aggregation == detail::Aggregation::none) {
          line += ", \"index\": " + std::to_string(entity.index);
        }
        line += '}';
      }
      line += "]}";
      output.add(std::move(line));
    }
    begin = end;
  }
  output.commit();
  head_summary(
      options, "tag", lines.size(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace

Runner add_tag_command(CLI::App& app) {
  auto o = std::make_shared<TagOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tag", "Run a token-classification head (NER): labels per token and aggregated entities");
  add_head_options(*cmd, o->head, /*text_flag=*/true);
  cmd->add_option("--aggregation", o->aggregation,
                  "How tokens become entities, as Hugging Face's token-classification pipeline: "
                  "none, simple, first, max or average")
      ->check(CLI::IsMember({"none", "simple", "first", "max", "average"}))
      ->capture_default_str();
  return [o] {
    check_output_path(o->head.output, {".jsonl"});
    return tag(*o);
  };
}

}  // namespace vecformer::cli
