#include "tokenizer/unigram.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <limits>
#include <numeric>

#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

constexpr double kUnkPenalty = 10.0;

std::vector<std::string_view> views(const std::vector<std::pair<std::string, double>>& pieces) {
  std::vector<std::string_view> out;
  out.reserve(pieces.size());
  for (const auto& piece : pieces) out.emplace_back(piece.first);
  return out;
}

std::vector<int64_t> identity_ids(size_t n) {
  std::vector<int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), int64_t{0});
  return ids;
}

}  // namespace

PieceTrie::PieceTrie(const std::vector<std::string_view>& pieces, const std::vector<int64_t>& ids) {
  // Sorted by bytes; of equal pieces the last (the largest index) is kept.
  std::vector<size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return pieces[a] < pieces[b]; });
  std::vector<size_t> unique;
  unique.reserve(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    if (i + 1 < order.size() && pieces[order[i]] == pieces[order[i + 1]]) continue;
    unique.push_back(order[i]);
  }

  // Breadth first, so that each node's children are created together and numbered contiguously.
  struct Pending {
    uint32_t node;
    size_t lo, hi, depth;
  };
  nodes_.emplace_back();
  labels_.push_back(0);
  std::deque<Pending> queue{{0, 0, unique.size(), 0}};
  while (!queue.empty()) {
    auto [node, lo, hi, depth] = queue.front();
    queue.pop_front();
    if (lo < hi && pieces[unique[lo]].size() == depth) nodes_[node].id = ids[unique[lo++]];
    if (nodes_.size() + 256 > kNone) throw Error("the pieces make a trie of more than 2^32 nodes");
    nodes_[node].first_child = static_cast<uint32_t>(nodes_.size());
    while (lo < hi) {
      const char label = pieces[unique[lo]][depth];
      size_t end = lo + 1;
      while (end < hi && pieces[unique[end]][depth] == label) ++end;
      queue.push_back({static_cast<uint32_t>(nodes_.size()), lo, end, depth + 1});
      nodes_.emplace_back();
      labels_.push_back(static_cast<unsigned char>(label));
      ++nodes_[node].child_count;
      lo = end;
    }
  }
}

uint32_t PieceTrie::child(uint32_t node, unsigned char label) const {
  const Node& n = nodes_[node];
  const unsigned char* first = labels_.data() + n.first_child;
  const unsigned char* last = first + n.child_count;
  const unsigned char* it = std::lower_bound(first, last, label);
  return it != last && *it == label ? static_cast<uint32_t>(it - labels_.data()) : kNone;
}

int64_t PieceTrie::find(std::string_view key) const {
  uint32_t node = 0;
  for (const char c : key) {
    node = child(node, static_cast<unsigned char>(c));
    if (node == kNone) return -1;
  }
  return nodes_[node].id;
}

Unigram::Unigram(const UnigramConfig& config)
    : trie_(views(config.pieces), identity_ids(config.pieces.size())),
      byte_fallback_(config.byte_fallback) {
  if (config.pieces.size() > std::numeric_limits<uint32_t>::max())
    throw Error("vocab: more than 4294967295 pieces");
  if (config.unk_id) {
    if (*config.unk_id >= config.pieces.size())
      throw Error("unk_id " + std::to_string(*config.unk_id) + " is outside the vocabulary (" +
                  std::to_string(config.pieces.size()) + " pieces)");
    unk_id_ = static_cast<int64_t>(*config.unk_id);
  }
  pieces_.reserve(config.pieces.size());
  scores_.reserve(config.pieces.size());
  double min_score = std::numeric_limits<double>::infinity();
  for (const auto& [piece, score] : config.pieces) {
    pieces_.push_back(piece);
    scores_.push_back(score);
    if (score < min_score) min_score = score;
  }
  unk_score_ = min_score - kUnkPenalty;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[b] = trie_.find(name);
  }
}

const std::string* Unigram::id_to_token(int64_t id) const {
  if (id < 0 || static_cast<uint64_t>(id) >= pieces_.size()) return nullptr;
  return &pieces_[static_cast<size_t>(id)];
}

void Unigram::tokenize(std::string_view word, std::vector<ModelToken>& out) const {
  if (word.empty()) return;
  if (word.size() >= std::numeric_limits<uint32_t>::max()) throw Error("a word of 4 GB or more");

  // best[i]: the best path over word[0, i): its score, the piece ending it and where that starts.
  struct Best {
    double score = 0;
    int64_t id = 0;
    int64_t start = -1;  // -1: no path yet
  };
  std::vector<Best> best(word.size() + 1);
  for (size_t start = 0; start < word.size();) {
    const double score_here = best[start].score;
    const size_t length = utf8_char_length(word, start);
    bool single_char_piece = false;
    trie_.common_prefixes(word.substr(start), [&](size_t piece_length, int64_t id) {
      Best& target = best[start + piece_length];
      const double candidate = scores_[static_cast<size_t>(id)] + score_here;
      if (target.start < 0 || candidate > target.score) {
        target = {candidate, id, static_cast<int64_t>(start)};
      }
      if (piece_length == length) single_char_piece = true;
    });
    if (!single_char_piece) {
      Best& target = best[start + length];
      const double candidate = unk_score_ + score_here;
      if (target.start < 0 || candidate > target.score) {
        if (unk_id_ < 0) throw Error("an unknown character and the Unigram model has no unk_id");
        target = {candidate, unk_id_, static_cast<int64_t>(start)};
      }
    }
    start += length;
  }

  // Back from the end: the path as [start, end) ranges, a run of unk nodes fused into one.
  struct Range {
    size_t begin, end;
    int64_t id;  // -1: a fused unk run, looked up below
  };
  std::vector<Range> path;
  for (size_t end = word.size(); end > 0;) {
    const Best& node = best[end];
    const auto begin = static_cast<size_t>(node.start);
    if (node.id == unk_id_) {
      if (!path.empty() && path.back().id == -1 && path.back().begin == end)
        path.back().begin = begin;
      else
        path.push_back({begin, end, -1});
    } else {
      path.push_back({begin, end, node.id});
    }
    end = begin;
  }

  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    const auto begin = static_cast<uint32_t>(it->begin);
    const auto end = static_cast<uint32_t>(it->end);
    if (it->id >= 0) {
      out.push_back({it->id, begin, end});
      continue;
    }
    const std::string_view text = word.substr(it->begin, it->end - it->begin);
    const int64_t id = trie_.find(text);
    if (id >= 0) {
      out.push_back({id, begin, end});
    } else if (byte_fallback_ && std::all_of(text.begin(), text.end(), [this](char c) {
                 return byte_ids_[static_cast<unsigned char>(c)] >= 0;
               })) {
      for (const char c : text)
        out.push_back({byte_ids_[static_cast<unsigned char>(c)], begin, end});
    } else {
      out.push_back({unk_id_, begin, end});
    }
  }
}

}  // namespace vecformer::detail
