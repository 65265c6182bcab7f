#include "tokenizer/bpe.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdio>
#include <limits>
#include <queue>

#include "io/printable.hpp"
#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

constexpr int64_t kMaxId = std::numeric_limits<uint32_t>::max();

}  // namespace

// One symbol of a word being merged, as Hugging Face's Symbol: the token id, the bytes it spans
// (0 once merged into its left neighbour) and its neighbours (-1: none).
struct Bpe::Symbol {
  uint32_t id;
  uint32_t length;
  int64_t prev;
  int64_t next;
};

std::pair<std::string, std::string> split_merge_line(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
    throw Error("merge \"" + printable(line) + "\" is not two tokens separated by one space");
  return {std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

Bpe::Bpe(const BpeConfig& config)
    : unk_token_(config.unk_token),
      prefix_(config.continuing_subword_prefix),
      suffix_(config.end_of_word_suffix),
      fuse_unk_(config.fuse_unk),
      byte_fallback_(config.byte_fallback),
      ignore_merges_(config.ignore_merges) {
  token_ids_.reserve(config.vocab.size());
  for (size_t i = 0; i < config.vocab.size(); ++i) {
    const auto& [token, id] = config.vocab[i];
    if (id < 0 || id > kMaxId)
      throw Error("vocab[\"" + printable(token) + "\"]: id " + std::to_string(id) +
                  " is outside [0, 4294967295]");
    token_ids_.insert_or_assign(token, id);
  }
  // Ids to tokens; for an id shared by several tokens, the last listed. (Rebuilt from the config
  // order: the map's own order is unspecified.)
  id_tokens_.reserve(token_ids_.size());
  for (const auto& [token, id] : config.vocab) {
    const auto it = token_ids_.find(token);
    if (it->second == id) id_tokens_.insert_or_assign(id, &it->first);
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[b] = token_to_id(name);
  }

  static std::atomic<uint64_t> next_cache_id{1};
  cache_id_ = next_cache_id.fetch_add(1, std::memory_order_relaxed);

  size_t slots = 16;
  while (slots < 2 * config.merges.size()) slots *= 2;
  merges_.resize(slots);
  merge_shift_ = 64 - std::countr_zero(slots);
  std::string merged;
  for (size_t rank = 0; rank < config.merges.size(); ++rank) {
    const auto& [left, right] = config.merges[rank];
    const auto not_in_vocab = [&](std::string_view token) {
      return Error("merges[" + std::to_string(rank) + "]: \"" + printable(token) +
                   "\" is not in the vocabulary");
    };
    const int64_t left_id = token_to_id(left);
    if (left_id < 0) throw not_in_vocab(left);
    const int64_t right_id = token_to_id(right);
    if (right_id < 0) throw not_in_vocab(right);
    // As Hugging Face: the merged token is left + right without its first prefix-length bytes
    // (whether or not right starts with the prefix).
    if (right.size() < prefix_.size())
      throw Error("merges[" + std::to_string(rank) + "]: \"" + printable(right) +
                  "\" is shorter than the continuing_subword_prefix");
    merged.assign(left).append(right, prefix_.size());
    const int64_t new_id = token_to_id(merged);
    if (new_id < 0) throw not_in_vocab(merged);
    const uint64_t key = static_cast<uint64_t>(left_id) << 32 | static_cast<uint64_t>(right_id);
    if (rank >= kEmpty) throw Error("merges: 4294967295 merges or more");
    // A pair listed again takes the later rank.
    const Merge merge{static_cast<uint32_t>(rank), static_cast<uint32_t>(new_id)};
    for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> merge_shift_;; i = (i + 1) & (slots - 1)) {
      if (merges_[i].merge.rank == kEmpty || merges_[i].pair == key) {
        merges_[i] = {key, merge};
        break;
      }
    }
  }
}

int64_t Bpe::token_to_id(std::string_view token) const {
  const auto it = token_ids_.find(token);
  return it == token_ids_.end() ? -1 : it->second;
}

const std::string* Bpe::id_to_token(int64_t id) const {
  const auto it = id_tokens_.find(id);
  return it == id_tokens_.end() ? nullptr : it->second;
}

const Bpe::Merge* Bpe::find_merge(uint32_t left, uint32_t right) const {
  const uint64_t key = static_cast<uint64_t>(left) << 32 | right;
  const size_t mask = merges_.size() - 1;
  for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> merge_shift_;; i = (i + 1) & mask) {
    const MergeSlot& slot = merges_[i];
    if (slot.merge.rank == kEmpty) return nullptr;
    if (slot.pair == key) return &slot.merge;
  }
}

// Word::merge_all without dropout: a min-heap of candidate merges by (rank, position); a popped
// candidate whose symbol has gone or whose pair no longer gives the same new token is stale and
// skipped (Hugging Face compares the new token only, not the rank: kept as is, for equal results).
void Bpe::merge_all(std::vector<Symbol>& symbols) const {
  struct Candidate {
    uint32_t rank;
    uint32_t new_id;
    size_t pos;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : pos > other.pos;
    }
  };
  std::vector<Candidate> storage;
  storage.reserve(symbols.size());
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    if (const Merge* m = find_merge(symbols[i].id, symbols[i + 1].id))
      storage.push_back({m->rank, m->new_id, i});
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(std::greater<>{},
                                                                               std::move(storage));
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& current = symbols[top.pos];
    if (current.length == 0 || current.next == -1) continue;
    const auto next_pos = static_cast<size_t>(current.next);
    const Symbol right = symbols[next_pos];
    const Merge* m = find_merge(current.id, right.id);
    if (m == nullptr || m->new_id != top.new_id) continue;

    current.id = top.new_id;
    current.length += right.length;
    current.next = right.next;
    symbols[next_pos].length = 0;
    if (right.next != -1)
      symbols[static_cast<size_t>(right.next)].prev = static_cast<int64_t>(top.pos);

    if (current.prev != -1) {
      const auto prev = static_cast<size_t>(current.prev);
      if (const Merge* p = find_merge(symbols[prev].id, current.id))
        queue.push({p->rank, p->new_id, prev});
    }
    if (current.next != -1) {
      if (const Merge* n = find_merge(current.id, symbols[static_cast<size_t>(current.next)].id))
        queue.push({n->rank, n->new_id, top.pos});
    }
  }
}

namespace {

// Hugging Face's BPE cache bounds: words shorter than 256 bytes, 10,000 of them.
constexpr size_t kCacheWordBytes = 256;
constexpr size_t kCacheWords = 10000;

struct CacheHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One thread's cache, for one Bpe instance at a time (its cache_id_; ids are never reused, so a
// new instance at a freed one's address cannot see the old words).
struct WordCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<ModelToken>, CacheHash, std::equal_to<>> words;
};

}  // namespace

void Bpe::tokenize(std::string_view word, std::vector<ModelToken>& out) const {
  if (word.empty()) return;
  if (word.size() > kMaxId) throw Error("a word of more than 4 GB");
  if (ignore_merges_) {
    const int64_t id = token_to_id(word);
    if (id >= 0) {
      out.push_back({id, 0, static_cast<uint32_t>(word.size())});
      return;
    }
  }
  if (word.size() >= kCacheWordBytes) {
    tokenize_uncached(word, out);
    return;
  }
  thread_local WordCache cache;
  if (cache.owner != cache_id_) {
    cache.words.clear();
    cache.owner = cache_id_;
  }
  if (const auto it = cache.words.find(word); it != cache.words.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  const size_t first = out.size();
  tokenize_uncached(word, out);
  if (cache.words.size() < kCacheWords)
    cache.words.emplace(std::string(word), std::vector<ModelToken>(out.begin() + first, out.end()));
}

void Bpe::tokenize_uncached(std::string_view word, std::vector<ModelToken>& out) const {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  const auto add = [&symbols](int64_t id, size_t length) {
    const auto index = static_cast<int64_t>(symbols.size());
    if (!symbols.empty()) symbols.back().next = index;
    symbols.push_back({static_cast<uint32_t>(id), static_cast<uint32_t>(length), index - 1, -1});
  };
  // A pending unk token (fused with the following unknown characters when fuse_unk), added before
  // the next known character. Byte-fallback tokens do not flush it: as in Hugging Face, they come
  // before an unk that is still pending.
  int64_t unk_id = -1;
  size_t unk_length = 0;
  std::string scratch;
  for (size_t pos = 0; pos < word.size();) {
    const size_t length = utf8_char_length(word, pos);
    std::string_view piece = word.substr(pos, length);
    const bool first = pos == 0;
    pos += length;
    const bool last = pos == word.size();
    if ((!first && !prefix_.empty()) || (last && !suffix_.empty())) {
      scratch.clear();
      if (!first) scratch += prefix_;
      scratch += piece;
      if (last) scratch += suffix_;
      piece = scratch;
    }

    const int64_t id = token_to_id(piece);
    if (id >= 0) {
      if (unk_id >= 0) {
        add(unk_id, unk_length);
        unk_id = -1;
      }
      add(id, length);
      continue;
    }
    if (byte_fallback_ && std::all_of(piece.begin(), piece.end(), [this](char c) {
          return byte_ids_[static_cast<unsigned char>(c)] >= 0;
        })) {
      for (const char c : piece) add(byte_ids_[static_cast<unsigned char>(c)], 1);
      continue;
    }
    if (!unk_token_) continue;  // no unk token: the character is dropped
    if (unk_id >= 0 && fuse_unk_) {
      unk_length += length;
      continue;
    }
    if (unk_id >= 0) add(unk_id, unk_length);
    unk_id = token_to_id(*unk_token_);
    if (unk_id < 0)
      throw Error("the unk_token \"" + printable(*unk_token_) + "\" is not in the vocabulary");
    unk_length = length;
  }
  if (unk_id >= 0) add(unk_id, unk_length);

  merge_all(symbols);

  uint64_t offset = 0;
  for (const Symbol& s : symbols) {
    if (s.length == 0) continue;
    const uint64_t end = offset + s.length;
    out.push_back({s.id, static_cast<uint32_t>(std::min<uint64_t>(offset, kMaxId)),
                   static_cast<uint32_t>(std::min<uint64_t>(end, kMaxId))});
    offset = end;
  }
}

}  // namespace vecformer::detail
