#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/pipeline.hpp"

namespace vecformer::detail {

// The tokenizer in a Hugging Face model folder:
// - tokenizer.json: every component (docs/FORMAT.md lists the supported types and fields); an
//   unknown type is an Error naming its JSON path (`normalizer.normalizers[1].type "Nmt" is not
//   supported`). A BertNormalizer's options are overridden by tokenizer_config.json's
//   do_lower_case, strip_accents and tokenize_chinese_chars when set, as BertTokenizerFast does.
// - otherwise vocab.txt: one token per line, the id being the 0-based line number (a trailing '\r'
//   is dropped), built as BertTokenizerFast builds it (bert_pipeline), options from
//   tokenizer_config.json;
// - otherwise vocab.json + merges.txt: RobertaTokenizerFast's byte-level BPE.
// tokenizer_config.json, when present, names the special tokens and model_max_length.
// Throws vecformer::Error naming the folder or the file (and field or line) at fault.
PipelineConfig read_tokenizer_folder(const std::filesystem::path& folder);

// BertTokenizerFast over a vocabulary: BertNormalizer, BertPreTokenizer, WordPiece ([UNK], "##",
// 100 characters), BertProcessing ([CLS], [SEP]); [PAD] [UNK] [CLS] [SEP] [MASK] from the
// vocabulary are special added tokens. `source` prefixes the errors (the vocabulary lacks [CLS],
// [SEP] or [UNK]).
PipelineConfig bert_pipeline(std::vector<std::string> vocab, bool clean_text,
                             bool handle_chinese_chars, std::optional<bool> strip_accents,
                             bool lowercase, const std::string& source);

}  // namespace vecformer::detail
