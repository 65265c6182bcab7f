#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vecformer::detail {

// Standard base64 (RFC 4648 alphabet, '=' padding required, no whitespace, unused bits zero), as
// the base64 crate's STANDARD engine decodes tokenizer.json's precompiled_charsmap. Throws
// vecformer::Error, one line without a file name (the caller adds it and the JSON path):
//   "not valid base64 at character 12"   or   "not valid base64: length 13 is not a multiple of 4"
std::string base64_decode(std::string_view text);

// SentencePiece's precompiled_charsmap, as the spm_precompiled crate (Hugging Face's Precompiled
// normalizer) reads it: a little-endian u32 trie size in bytes, then that many bytes / 4 units of
// a Darts double-array trie (little-endian u32 each), then the replacement strings, each ended by
// a NUL (whatever bytes the size leaves over, trie_size % 4 of them, belong to the strings).
class PrecompiledCharsmap {
 public:
  // Throws vecformer::Error (one line, no file name) when the blob is shorter than its header says
  // or the strings are not valid UTF-8 (as the crate rejects them). A blob that parses but whose
  // trie points outside itself is no error: lookups that leave the arrays are misses.
  explicit PrecompiledCharsmap(std::string_view blob);

  // The replacement of `chunk` as the crate's Precompiled::transform: the trie's common-prefix
  // search over chunk's bytes (stopping at a NUL byte), the FIRST (shortest) match, its string up
  // to the next NUL. nullopt when no prefix of chunk is in the map. The view is into this object.
  std::optional<std::string_view> transform(std::string_view chunk) const;

 private:
  std::vector<uint32_t> units_;
  std::string strings_;
};

// Hugging Face's Precompiled normalizer (tokenizers/src/normalizers/precompiled.rs) over `input`
// (valid UTF-8): for each extended grapheme cluster (ICU's character break iterator), a cluster
// shorter than 6 bytes is first looked up whole; otherwise, or when that misses, each character of
// it is looked up alone. Calls
//   piece(out, begin, end, changed)
// in order, for consecutive byte ranges [begin, end) of `input` covering all of it:
//   changed == true:  out is transform()'s replacement of input[begin, end) (one grapheme or one
//                     character; possibly empty, possibly equal to the input);
//   changed == false: out is input[begin, end) itself (runs of characters with no replacement are
//                     given together).
// To reproduce Hugging Face's alignments, each changed piece is its `replace(old, new)`: the new
// characters each get change 0, then if new has k more characters than old the last k of them get
// change 1, and if it has k fewer the last character emitted so far (possibly one of an earlier
// piece; none at the very start) gets change -k; unchanged characters get change 0. Those
// (char, change) pairs are what NormalizedString::transform(…, 0) is given — unless no piece is
// changed, when Hugging Face leaves the string untouched.
// Throws vecformer::Error if ICU fails (it does not on valid UTF-8) or input is 2 GB or more.
using PrecompiledPiece =
    std::function<void(std::string_view out, size_t begin, size_t end, bool changed)>;
void precompiled_normalize(const PrecompiledCharsmap& charsmap, std::string_view input,
                           const PrecompiledPiece& piece);

// The normalized text alone (the crate's Precompiled::normalize_string).
std::string precompiled_normalize(const PrecompiledCharsmap& charsmap, std::string_view input);

}  // namespace vecformer::detail
