// Token classification to entities, checked on hand-worked cases against the semantics of Hugging
// Face's TokenClassificationPipeline (aggregation none, simple, first, max, average).
#include <catch2/catch.hpp>

#include "heads/token_aggregation.hpp"

using namespace vecformer::detail;

namespace {

const std::vector<std::string> kLabels = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};

// One sequence: [CLS] tokens [SEP], with scores per token (special rows all zeros).
struct Sequence {
  std::string text;
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
  std::vector<std::pair<size_t, size_t>> offsets;
  std::vector<uint8_t> special;
  std::vector<float> scores;

  void add(const std::string& token, size_t start, size_t end, std::vector<float> s,
           int64_t id = 10) {
    ids.push_back(id);
    tokens.push_back(token);
    offsets.emplace_back(start, end);
    special.push_back(0);
    scores.insert(scores.end(), s.begin(), s.end());
  }
  void add_special() {
    ids.push_back(2);
    tokens.push_back("[CLS]");
    offsets.emplace_back(0, 0);
    special.push_back(1);
    scores.insert(scores.end(), kLabels.size(), 0.0f);
  }
  std::vector<PreEntity> pre(bool word_aware, int64_t unk_id = 1) const {
    return gather_pre_entities(text, ids, tokens, offsets, special, scores.data(),
                               static_cast<int64_t>(kLabels.size()), word_aware, unk_id);
  }
};

// "Zoë visited Montréal, Québec." through an uncased WordPiece tokenizer (accents stripped):
// zoe | visited | mont ##real | , | que ##bec | .  (offsets in code points of the text).
Sequence montreal() {
  Sequence s;
  s.text = "Zo\u00eb visited Montr\u00e9al, Qu\u00e9bec.";
  s.add_special();
  s.add("zoe", 0, 3, {0.05f, 0.9f, 0.03f, 0.01f, 0.01f});
  s.add("visited", 4, 11, {0.8f, 0.05f, 0.05f, 0.05f, 0.05f});
  s.add("mont", 12, 16, {0.1f, 0.05f, 0.05f, 0.7f, 0.1f});
  s.add("##real", 16, 20, {0.3f, 0.02f, 0.03f, 0.05f, 0.6f});
  s.add(",", 20, 21, {0.9f, 0.02f, 0.02f, 0.03f, 0.03f});
  s.add("que", 22, 25, {0.05f, 0.02f, 0.03f, 0.5f, 0.4f});
  s.add("##bec", 25, 28, {0.55f, 0.01f, 0.02f, 0.02f, 0.4f});
  s.add(".", 28, 29, {0.96f, 0.01f, 0.01f, 0.01f, 0.01f});
  s.add_special();
  return s;
}

struct Expected {
  std::string group;
  std::string word;
  int64_t start, end;
  float score;
};

void check_entities(const std::vector<Entity>& got, const std::vector<Expected>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("entity " << i);
    CHECK(got[i].entity_group == want[i].group);
    CHECK(got[i].word == want[i].word);
    CHECK(got[i].start == want[i].start);
    CHECK(got[i].end == want[i].end);
    // Means of a few float scores: float32 rounding only.
    CHECK(got[i].score == Approx(want[i].score).margin(1e-6));
  }
}

}  // namespace

TEST_CASE("pre-entities: specials dropped, subwords from WordPiece continuations", "[heads]") {
  const std::vector<PreEntity> pre = montreal().pre(/*word_aware=*/true);
  REQUIRE(pre.size() == 8);
  const std::vector<bool> subword = {false, false, false, true, false, false, true, false};
  for (size_t i = 0; i < pre.size(); ++i) {
    INFO(pre[i].word);
    CHECK(pre[i].is_subword == subword[i]);
    CHECK(pre[i].index == static_cast<int64_t>(i + 1));  // [CLS] is row 0
  }
  // Accents: "Zoë" is 3 code points, as long as "zoe": not a subword.
  CHECK(pre[0].start == 0);
  CHECK(pre[0].end == 3);
}

TEST_CASE("aggregation none keeps every non-O token with its full label", "[heads]") {
  const Sequence s = montreal();
  const auto entities =
      aggregate_entities(s.pre(true), kLabels, Aggregation::none, wordpiece_tokens_to_string);
  check_entities(entities, {{"B-PER", "zoe", 0, 3, 0.9f},
                            {"B-LOC", "mont", 12, 16, 0.7f},
                            {"I-LOC", "##real", 16, 20, 0.6f},
                            {"B-LOC", "que", 22, 25, 0.5f}});
  CHECK(entities[1].index == 3);
}

TEST_CASE("aggregation simple groups B-/I- runs of tokens", "[heads]") {
  const Sequence s = montreal();
  check_entities(
      aggregate_entities(s.pre(true), kLabels, Aggregation::simple, wordpiece_tokens_to_string),
      {{"PER", "zoe", 0, 3, 0.9f},
       {"LOC", "montreal", 12, 20, 0.65f},  // mont (B-LOC 0.7) + ##real (I-LOC 0.6)
       {"LOC", "que", 22, 25, 0.5f}});      // ##bec is O: the word is cut
}

TEST_CASE("aggregation first labels a word by its first token", "[heads]") {
  const Sequence s = montreal();
  check_entities(
      aggregate_entities(s.pre(true), kLabels, Aggregation::first, wordpiece_tokens_to_string),
      {{"PER", "zoe", 0, 3, 0.9f},
       {"LOC", "montreal", 12, 20, 0.7f},
       {"LOC", "quebec", 22, 28, 0.5f}});
}

TEST_CASE("aggregation max labels a word by its most confident token", "[heads]") {
  const Sequence s = montreal();
  // québec: ##bec's O (0.55) beats que's B-LOC (0.5), so the word is O and dropped.
  check_entities(
      aggregate_entities(s.pre(true), kLabels, Aggregation::max, wordpiece_tokens_to_string),
      {{"PER", "zoe", 0, 3, 0.9f}, {"LOC", "montreal", 12, 20, 0.7f}});
}

TEST_CASE("aggregation average labels a word by its mean scores", "[heads]") {
  const Sequence s = montreal();
  // montreal: mean B-LOC 0.375 > I-LOC 0.35; quebec: mean I-LOC 0.4 > O 0.3 > B-LOC 0.26, an I-
  // after O that starts its own group.
  check_entities(
      aggregate_entities(s.pre(true), kLabels, Aggregation::average, wordpiece_tokens_to_string),
      {{"PER", "zoe", 0, 3, 0.9f},
       {"LOC", "montreal", 12, 20, 0.375f},
       {"LOC", "quebec", 22, 28, 0.4f}});
}

TEST_CASE("B- starts a new entity, I- continues one of the same type", "[heads]") {
  Sequence s;
  s.text = "John Smith Mary Jones Paris";
  s.add_special();
  s.add("john", 0, 4, {0.05f, 0.9f, 0.03f, 0.01f, 0.01f});
  s.add("smith", 5, 10, {0.1f, 0.05f, 0.8f, 0.03f, 0.02f});
  s.add("mary", 11, 15, {0.1f, 0.7f, 0.1f, 0.05f, 0.05f});
  s.add("jones", 16, 21, {0.1f, 0.1f, 0.6f, 0.1f, 0.1f});
  s.add("paris", 22, 27, {0.1f, 0.05f, 0.05f, 0.1f, 0.7f});  // I-LOC after I-PER: a new group
  s.add_special();
  check_entities(
      aggregate_entities(s.pre(true), kLabels, Aggregation::simple, wordpiece_tokens_to_string),
      {{"PER", "john smith", 0, 10, 0.85f},
       {"PER", "mary jones", 11, 21, 0.65f},
       {"LOC", "paris", 22, 27, 0.7f}});
}

TEST_CASE("byte-level tokens: a subword is a token not after a space", "[heads]") {
  // "Hi Montréal!" through a byte-level BPE: Hi | ĠMont | rÃ©al | !  (é is two bytes, Ã©).
  Sequence s;
  s.text = "Hi Montr\u00e9al!";
  s.add_special();
  s.add("Hi", 0, 2, {0.9f, 0.02f, 0.02f, 0.03f, 0.03f});
  s.add("\u0120Mont", 3, 7, {0.1f, 0.05f, 0.05f, 0.7f, 0.1f});
  s.add("r\u00c3\u00a9al", 7, 11, {0.3f, 0.02f, 0.03f, 0.05f, 0.6f});
  s.add("!", 11, 12, {0.1f, 0.02f, 0.03f, 0.05f, 0.8f});  // punctuation glued on: a subword too
  s.add_special();
  const std::vector<PreEntity> pre = s.pre(/*word_aware=*/false);
  REQUIRE(pre.size() == 4);
  CHECK_FALSE(pre[0].is_subword);
  CHECK_FALSE(pre[1].is_subword);
  CHECK(pre[2].is_subword);
  CHECK(pre[3].is_subword);
  check_entities(aggregate_entities(pre, kLabels, Aggregation::first, byte_level_tokens_to_string),
                 {{"LOC", " Montr\u00e9al!", 3, 12, 0.7f}});
}

TEST_CASE("an unknown token takes the text it covers and starts a word", "[heads]") {
  Sequence s;
  s.text = "ok \u2603x";
  s.add_special();
  s.add("ok", 0, 2, {0.9f, 0.02f, 0.02f, 0.03f, 0.03f});
  s.add("[UNK]", 3, 5, {0.1f, 0.8f, 0.05f, 0.03f, 0.02f}, /*id=*/1);
  s.add_special();
  const std::vector<PreEntity> pre = s.pre(true, /*unk_id=*/1);
  REQUIRE(pre.size() == 2);
  CHECK(pre[1].word == "\u2603x");
  CHECK_FALSE(pre[1].is_subword);
  check_entities(aggregate_entities(pre, kLabels, Aggregation::simple, wordpiece_tokens_to_string),
                 {{"PER", "\u2603x", 3, 5, 0.8f}});
}

TEST_CASE("decoders spell tokens back as Hugging Face's do", "[heads]") {
  CHECK(wordpiece_tokens_to_string({"new", "york", "##er", ",", "it", "'", "s", "."}) ==
        "new yorker, it ' s.");  // cleanup is per token, as in tokenizers' WordPiece decoder
  CHECK(byte_level_tokens_to_string({"\u0120New", "\u0120Y", "ork", "\u010a"}) == " New York\n");
  CHECK(code_point_offsets("a\u00e9b") == std::vector<size_t>{0, 1, 3, 4});
}
