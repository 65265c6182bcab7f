#pragma once

#include <filesystem>

#include "tokenizer/wordpiece.hpp"

namespace vecformer::detail {

// The WordPiece tokenizer in a Hugging Face model folder:
// - tokenizer.json, when it holds a "WordPiece" model: its model.vocab, unk_token,
//   continuing_subword_prefix and max_input_chars_per_word; the BertNormalizer's options (no
//   normalizer: none of its steps); its added_tokens. The pre_tokenizer must be BertPreTokenizer.
//   The post_processor is not read: encode() always builds [CLS] text [SEP].
// - otherwise vocab.txt: one token per line, the id being the 0-based line number (a trailing '\r'
//   is dropped), options as BertTokenizer's defaults, and [PAD] [UNK] [CLS] [SEP] [MASK] as the
//   special tokens.
// Either way tokenizer_config.json, when present, overrides the options it sets (do_lower_case,
// strip_accents with null meaning "as do_lower_case", tokenize_chinese_chars), as transformers'
// BertTokenizer and BertTokenizerFast do. The [CLS], [SEP] and [UNK] tokens must exist.
// Throws vecformer::Error naming the folder or the file (and field or line) at fault.
WordPieceConfig read_tokenizer_folder(const std::filesystem::path& folder);

}  // namespace vecformer::detail
