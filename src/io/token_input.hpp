#pragma once

#include <istream>
#include <string>
#include <vector>

#include "vecformer/config.hpp"
#include "vecformer/model.hpp"

namespace vecformer::detail {

// Reads token input: one sequence per line, either token ids separated by spaces or tabs (each a
// plain decimal number: no sign, no fraction), or a JSON object {"input_ids": [...],
// "token_type_ids": [...]} (a line whose first non-blank character is '{'). "token_type_ids" is
// optional and, when present, as long as "input_ids"; an "attention_mask", if present, must be all
// ones because the encoder has no padding; other keys are ignored. Every line is one sequence, so
// that outputs correspond to input lines: an empty or blank line is an Error (an input without any
// line gives no sequences). A '\r' before the newline (CRLF files) is ignored. Every id is checked
// against the config (vocabulary, type vocabulary, max_position_embeddings) and no sequence may be
// empty. max_length > 0 truncates a longer sequence to its first max_length - 1 tokens and its last
// one, as Tokenizer::encode keeps [SEP] (max_length 1 is an Error). Errors throw vecformer::Error
// as
// "<source>:<line>: <what is wrong>", with lines and the tokens within a line counted from 1.
std::vector<Sequence> read_token_input(std::istream& in, const std::string& source,
                                       const Config& config, size_t max_length = 0);

}  // namespace vecformer::detail
