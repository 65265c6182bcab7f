#include "vecformer/tokenizer.hpp"

#include "tokenizer/pipeline.hpp"
#include "tokenizer/tokenizer_files.hpp"
#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer {

Tokenizer::Tokenizer(std::shared_ptr<const detail::Pipeline> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::load(const std::filesystem::path& folder) {
  return Tokenizer(std::make_shared<const detail::Pipeline>(detail::read_tokenizer_folder(folder)));
}

Tokenizer Tokenizer::from_vocab(std::vector<std::string> vocab, const TokenizerOptions& options) {
  for (const std::string& token : vocab) {
    // Checked here so that a bad vocabulary is an Error, not a broken tokenizer.
    if (!detail::is_valid_utf8(token)) {
      throw Error("vocabulary token " + std::to_string(&token - vocab.data()) +
                  " is not valid UTF-8");
    }
  }
  return Tokenizer(std::make_shared<const detail::Pipeline>(
      detail::bert_pipeline(std::move(vocab), true, options.tokenize_chinese_chars,
                            options.strip_accents, options.lowercase, "")));
}

Encoding Tokenizer::encode_text(std::string_view text, const EncodingOptions& options) const {
  return impl_->encode(text, nullptr, options);
}

Encoding Tokenizer::encode_pair(std::string_view text, std::string_view pair,
                                const EncodingOptions& options) const {
  return impl_->encode(text, &pair, options);
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  EncodingOptions options;
  options.add_special_tokens = false;
  return impl_->encode(text, nullptr, options).tokens;
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, size_t max_length) const {
  EncodingOptions options;
  options.max_length = max_length;
  return impl_->encode(text, nullptr, options).ids;
}

Tokenizer::Special Tokenizer::special(const std::string& token) const {
  if (token.empty()) return {};
  const int64_t id = impl_->token_to_id(token);
  if (id < 0) return {};
  return {token, id};
}

Tokenizer::Special Tokenizer::cls_token() const {
  return special(impl_->config().cls_token);
}
Tokenizer::Special Tokenizer::sep_token() const {
  return special(impl_->config().sep_token);
}
Tokenizer::Special Tokenizer::pad_token() const {
  return special(impl_->config().pad_token);
}
Tokenizer::Special Tokenizer::mask_token() const {
  return special(impl_->config().mask_token);
}
Tokenizer::Special Tokenizer::unk_token() const {
  return special(impl_->config().unk_token);
}
size_t Tokenizer::model_max_length() const {
  return impl_->config().model_max_length;
}

int64_t Tokenizer::token_to_id(std::string_view token) const {
  return impl_->token_to_id(token);
}

const std::string& Tokenizer::id_to_token(int64_t id) const {
  const std::string* token = impl_->id_to_token(id);
  if (token == nullptr) {
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                std::to_string(impl_->vocab_size()) + " tokens");
  }
  return *token;
}

size_t Tokenizer::vocab_size() const {
  return impl_->vocab_size();
}

}  // namespace vecformer
