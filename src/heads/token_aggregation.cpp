#include "heads/token_aggregation.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace vecformer::detail {

namespace {

// Decodes one code point at text[i] (valid UTF-8 assumed; a stray byte counts as one), advancing i.
uint32_t next_code_point(std::string_view text, size_t& i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  int extra = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0;
  uint32_t cp = extra == 3   ? byte & 0x07u
                : extra == 2 ? byte & 0x0Fu
                : extra == 1 ? byte & 0x1Fu
                             : byte;
  ++i;
  for (; extra > 0 && i < text.size(); --extra, ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(text[i]) & 0x3Fu);
  }
  return cp;
}

size_t code_points(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) next_code_point(text, i);
  return count;
}

int64_t argmax(const float* scores, int64_t n) {
  return std::max_element(scores, scores + n) - scores;  // the first of equal maxima, as numpy
}

// B-PER -> (B, PER), I-PER -> (I, PER), anything else -> (I, itself): a continuation.
std::pair<char, std::string_view> tag_of(std::string_view label) {
  if (label.starts_with("B-")) return {'B', label.substr(2)};
  if (label.starts_with("I-")) return {'I', label.substr(2)};
  return {'I', label};
}

// A word's tokens fused into one labelled entity (first / max / average).
Entity aggregate_word(const std::vector<const PreEntity*>& tokens,
                      const std::vector<std::string>& labels, Aggregation aggregation,
                      const TokensToString& to_string) {
  const auto n = static_cast<int64_t>(labels.size());
  std::vector<std::string> words;
  for (const PreEntity* t : tokens) words.push_back(t->word);
  Entity entity;
  entity.word = to_string(words);
  entity.start = tokens.front()->start;
  entity.end = tokens.back()->end;
  int64_t best = 0;
  if (aggregation == Aggregation::first) {
    best = argmax(tokens.front()->scores, n);
    entity.score = tokens.front()->scores[best];
  } else if (aggregation == Aggregation::max) {
    // The token whose best score is highest (the first of equals, as Python's max()).
    const PreEntity* top = tokens.front();
    for (const PreEntity* t : tokens) {
      if (*std::max_element(t->scores, t->scores + n) >
          *std::max_element(top->scores, top->scores + n)) {
        top = t;
      }
    }
    best = argmax(top->scores, n);
    entity.score = top->scores[best];
  } else {
    std::vector<float> mean(static_cast<size_t>(n));
    for (int64_t l = 0; l < n; ++l) {
      double sum = 0;
      for (const PreEntity* t : tokens) sum += t->scores[l];
      mean[l] = static_cast<float>(sum / static_cast<double>(tokens.size()));
    }
    best = argmax(mean.data(), n);
    entity.score = mean[best];
  }
  entity.entity_group = labels[best];
  return entity;
}

// A run of entities into one group: the label after its last '-', the mean score, the words
// joined.
Entity group_of(const std::vector<Entity>& run, const TokensToString& to_string) {
  Entity group;
  const std::string& label = run.front().entity_group;
  const size_t dash = label.rfind('-');
  group.entity_group = dash == std::string::npos ? label : label.substr(dash + 1);
  double sum = 0;
  std::vector<std::string> words;
  for (const Entity& e : run) {
    sum += e.score;
    words.push_back(e.word);
  }
  group.score = static_cast<float>(sum / static_cast<double>(run.size()));
  group.word = to_string(words);
  group.start = run.front().start;
  group.end = run.back().end;
  return group;
}

std::vector<Entity> group_entities(const std::vector<Entity>& entities,
                                   const TokensToString& to_string) {
  std::vector<Entity> groups;
  std::vector<Entity> run;
  for (const Entity& entity : entities) {
    if (run.empty()) {
      run.push_back(entity);
      continue;
    }
    const auto [bi, tag] = tag_of(entity.entity_group);
    const auto [last_bi, last_tag] = tag_of(run.back().entity_group);
    (void)last_bi;
    if (tag == last_tag && bi != 'B') {
      run.push_back(entity);
    } else {
      groups.push_back(group_of(run, to_string));
      run = {entity};
    }
  }
  if (!run.empty()) groups.push_back(group_of(run, to_string));
  return groups;
}

}  // namespace

std::vector<size_t> code_point_offsets(std::string_view text) {
  std::vector<size_t> offsets;
  size_t i = 0;
  while (i < text.size()) {
    offsets.push_back(i);
    next_code_point(text, i);
  }
  offsets.push_back(text.size());
  return offsets;
}

std::vector<PreEntity> gather_pre_entities(std::string_view text, const std::vector<int64_t>& ids,
                                           const std::vector<std::string>& tokens,
                                           const std::vector<std::pair<size_t, size_t>>& offsets,
                                           const std::vector<uint8_t>& special, const float* scores,
                                           int64_t labels, bool word_aware, int64_t unk_id,
                                           bool have_offsets) {
  const std::vector<size_t> at = code_point_offsets(text);
  const size_t length = at.size() - 1;
  std::vector<PreEntity> pre;
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (special[t]) continue;
    PreEntity entity;
    entity.word = tokens[t];
    entity.scores = scores + static_cast<int64_t>(t) * labels;
    entity.index = static_cast<int64_t>(t);
    if (have_offsets) {
      const size_t start = std::min(offsets[t].first, length);
      const size_t end = std::clamp(offsets[t].second, start, length);
      entity.start = static_cast<int64_t>(start);
      entity.end = static_cast<int64_t>(end);
      const std::string_view reference = text.substr(at[start], at[end] - at[start]);
      if (word_aware) {
        entity.is_subword = code_points(entity.word) != end - start;
      } else {
        entity.is_subword =
            start > 0 && text.substr(at[start - 1], at[start] - at[start - 1]) != " ";
      }
      if (ids[t] == unk_id) {
        entity.word = std::string(reference);
        entity.is_subword = false;
      }
    }
    pre.push_back(std::move(entity));
  }
  return pre;
}

std::vector<Entity> aggregate_entities(const std::vector<PreEntity>& pre,
                                       const std::vector<std::string>& labels,
                                       Aggregation aggregation, const TokensToString& to_string,
                                       const std::vector<std::string>& ignore) {
  const auto n = static_cast<int64_t>(labels.size());
  std::vector<Entity> entities;
  if (aggregation == Aggregation::none || aggregation == Aggregation::simple) {
    for (const PreEntity& p : pre) {
      Entity e;
      const int64_t best = argmax(p.scores, n);
      e.entity_group = labels[best];
      e.score = p.scores[best];
      e.index = p.index;
      e.word = p.word;
      e.start = p.start;
      e.end = p.end;
      entities.push_back(std::move(e));
    }
  } else {
    std::vector<const PreEntity*> word;
    for (const PreEntity& p : pre) {
      if (!word.empty() && !p.is_subword) {
        entities.push_back(aggregate_word(word, labels, aggregation, to_string));
        word.clear();
      }
      word.push_back(&p);
    }
    if (!word.empty()) entities.push_back(aggregate_word(word, labels, aggregation, to_string));
  }
  if (aggregation != Aggregation::none) entities = group_entities(entities, to_string);
  std::erase_if(entities, [&](const Entity& e) {
    return std::find(ignore.begin(), ignore.end(), e.entity_group) != ignore.end();
  });
  return entities;
}

std::string wordpiece_tokens_to_string(const std::vector<std::string>& tokens) {
  static const std::array<std::pair<std::string_view, std::string_view>, 11> kCleanup = {{
      {" .", "."},
      {" ?", "?"},
      {" !", "!"},
      {" ,", ","},
      {" ' ", "'"},
      {" n't", "n't"},
      {" 'm", "'m"},
      {" do not", " don't"},
      {" 's", "'s"},
      {" 've", "'ve"},
      {" 're", "'re"},
  }};
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string token = tokens[i];
    if (i != 0) token = token.starts_with("##") ? token.substr(2) : " " + token;
    for (const auto& [from, to] : kCleanup) {
      for (size_t at = token.find(from); at != std::string::npos;
           at = token.find(from, at + to.size())) {
        token.replace(at, from.size(), to);
      }
    }
    text += token;
  }
  return text;
}

std::string byte_level_tokens_to_string(const std::vector<std::string>& tokens) {
  // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for 256 + n.
  static const std::map<uint32_t, unsigned char> kByteOf = [] {
    std::map<uint32_t, unsigned char> map;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      map[printable ? b : next++] = static_cast<unsigned char>(b);
    }
    return map;
  }();
  std::string bytes;
  for (const std::string& token : tokens) {
    std::string mapped;
    bool all = true;
    for (size_t i = 0; i < token.size() && all;) {
      const auto it = kByteOf.find(next_code_point(token, i));
      if (it == kByteOf.end()) {
        all = false;
      } else {
        mapped += static_cast<char>(it->second);
      }
    }
    bytes += all ? mapped : token;
  }
  // Invalid UTF-8 (a character cut between tokens) becomes U+FFFD, as from_utf8_lossy does.
  std::string text;
  for (size_t i = 0; i < bytes.size();) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    const size_t need = byte < 0x80         ? 1
                        : (byte >> 5) == 6  ? 2
                        : (byte >> 4) == 14 ? 3
                        : (byte >> 3) == 30 ? 4
                                            : 0;
    bool valid = need > 0 && i + need <= bytes.size();
    for (size_t k = 1; valid && k < need; ++k) {
      valid = (static_cast<unsigned char>(bytes[i + k]) >> 6) == 2;
    }
    if (valid) {
      text.append(bytes, i, need);
      i += need;
    } else {
      text += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return text;
}

std::string metaspace_tokens_to_string(const std::vector<std::string>& tokens) {
  static constexpr std::string_view kSpace = "\u2581";
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string token = tokens[i];
    for (size_t at = token.find(kSpace); at != std::string::npos; at = token.find(kSpace, at + 1)) {
      token.replace(at, kSpace.size(), " ");
    }
    if (i == 0 && token.starts_with(' ')) token.erase(0, 1);
    text += token;
  }
  return text;
}

}  // namespace vecformer::detail
