#include "vecformer/tokenizer.hpp"

#include <algorithm>

#include "tokenizer/tokenizer_files.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/wordpiece.hpp"
#include "vecformer/error.hpp"

namespace vecformer {

Tokenizer::Tokenizer(std::shared_ptr<const detail::WordPiece> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::load(const std::filesystem::path& folder) {
  return Tokenizer(
      std::make_shared<const detail::WordPiece>(detail::read_tokenizer_folder(folder)));
}

Tokenizer Tokenizer::from_vocab(std::vector<std::string> vocab, const TokenizerOptions& options) {
  detail::WordPieceConfig config;
  config.vocab = std::move(vocab);
  config.lowercase = options.lowercase;
  config.strip_accents = options.strip_accents;
  config.handle_chinese_chars = options.tokenize_chinese_chars;
  for (const std::string& token : config.vocab) {
    // Checked here so that a bad vocabulary is an Error, not a broken tokenizer.
    if (!detail::is_valid_utf8(token)) {
      throw Error("vocabulary token " + std::to_string(&token - config.vocab.data()) +
                  " is not valid UTF-8");
    }
  }
  detail::add_bert_special_tokens(config);
  return Tokenizer(std::make_shared<const detail::WordPiece>(std::move(config)));
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::vector<int64_t> ids;
  impl_->encode(text, ids);
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  for (const int64_t id : ids) pieces.push_back(impl_->id_to_token(id));
  return pieces;
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, size_t max_length) const {
  if (max_length == 1) throw Error("max_length 1 leaves no room for both [CLS] and [SEP]");
  std::vector<int64_t> ids{impl_->cls_id()};
  impl_->encode(text, ids);
  // Like Hugging Face's truncation (longest_first, right side): drop pieces from the end, keep
  // [SEP].
  if (max_length > 0 && ids.size() + 1 > max_length) ids.resize(max_length - 1);
  ids.push_back(impl_->sep_id());
  return ids;
}

int64_t Tokenizer::token_to_id(std::string_view token) const {
  return impl_->token_to_id(token);
}

const std::string& Tokenizer::id_to_token(int64_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->vocab_size()) {
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                std::to_string(impl_->vocab_size()) + " tokens");
  }
  return impl_->id_to_token(id);
}

size_t Tokenizer::vocab_size() const {
  return impl_->vocab_size();
}

}  // namespace vecformer
