#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pipeline.hpp"

// tokenizer.json's post-processors, each as Hugging Face's (tokenizers/src/processors).
namespace vecformer::detail {

// A special token of a post-processor: its string and id(s).
struct SpecialTokenIds {
  std::string token;
  int64_t id = 0;
};

// [CLS] A [SEP] (B [SEP]); type ids 0 for A, 1 for B.
class BertProcessing final : public PostProcessor {
 public:
  BertProcessing(SpecialTokenIds cls, SpecialTokenIds sep)
      : cls_(std::move(cls)), sep_(std::move(sep)) {}
  size_t added_tokens(bool pair) const override { return pair ? 3 : 2; }
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;
  std::pair<std::string, std::string> cls_sep() const override { return {cls_.token, sep_.token}; }

 private:
  SpecialTokenIds cls_, sep_;
};

// <s> A </s> (</s> B </s>); every type id 0; with trim_offsets, ByteLevel's offset trimming.
class RobertaProcessing final : public PostProcessor {
 public:
  RobertaProcessing(SpecialTokenIds cls, SpecialTokenIds sep, bool trim_offsets,
                    bool add_prefix_space)
      : cls_(std::move(cls)),
        sep_(std::move(sep)),
        trim_offsets_(trim_offsets),
        add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool pair) const override { return pair ? 4 : 2; }
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;
  std::pair<std::string, std::string> cls_sep() const override { return {cls_.token, sep_.token}; }

 private:
  SpecialTokenIds cls_, sep_;
  bool trim_offsets_, add_prefix_space_;
};

// ByteLevel as a post-processor: trims the offsets of tokens that start or end with spaces.
class ByteLevelProcessing final : public PostProcessor {
 public:
  ByteLevelProcessing(bool trim_offsets, bool add_prefix_space)
      : trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  size_t added_tokens(bool) const override { return 0; }
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;

 private:
  bool trim_offsets_, add_prefix_space_;
};

// TemplateProcessing: "single" and "pair" templates of special tokens and sequences.
class TemplateProcessing final : public PostProcessor {
 public:
  struct Item {
    bool sequence = false;      // a sequence (A or B), else a special token
    size_t sequence_index = 0;  // 0 for A, 1 for B
    std::string special;        // key into the special tokens
    int64_t type_id = 0;
  };
  struct Special {
    std::vector<int64_t> ids;
    std::vector<std::string> tokens;
  };
  TemplateProcessing(std::vector<Item> single, std::vector<Item> pair,
                     std::map<std::string, Special> special_tokens);
  size_t added_tokens(bool pair) const override { return pair ? added_pair_ : added_single_; }
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;
  std::pair<std::string, std::string> cls_sep() const override;

 private:
  std::vector<Item> single_, pair_;
  std::map<std::string, Special> special_tokens_;
  size_t added_single_ = 0, added_pair_ = 0;
};

class SequenceProcessing final : public PostProcessor {
 public:
  explicit SequenceProcessing(std::vector<std::shared_ptr<const PostProcessor>> processors)
      : processors_(std::move(processors)) {}
  size_t added_tokens(bool pair) const override;
  void process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const override;
  std::pair<std::string, std::string> cls_sep() const override;

 private:
  std::vector<std::shared_ptr<const PostProcessor>> processors_;
};

}  // namespace vecformer::detail
