// The `vecformer` Python module: a thin pybind11 layer over the public C++ API
// (include/vecformer/). Inputs are converted under the GIL; tokenization and encoding run with the
// GIL released; results become numpy arrays that own the C++ output (no copy) or, when the input
// is encoded in several token-budget batches, one copy into the final array.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "vecformer/vecformer.hpp"

namespace py = pybind11;

namespace vecformer::python {

namespace {

// Tokens per encode call, as `vecformer run` (and text-embeddings-inference's max-batch-tokens):
// it bounds the workspace and one batch's output however large the input is.
constexpr int64_t kBatchTokens = 16384;

// A float32 numpy array that owns `data` (moved, not copied).
py::array_t<float> to_numpy(std::vector<float>&& data, const std::vector<int64_t>& shape) {
  auto* owner = new std::vector<float>(std::move(data));
  py::capsule free_owner(owner, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  return py::array_t<float>(dims, owner->data(), free_owner);
}

py::array_t<float> to_numpy(Tensor&& tensor) {
  return to_numpy(std::move(tensor.data), tensor.shape);
}

template <typename T>
py::array_t<T> vector_to_numpy(std::vector<T>&& data) {
  auto* owner = new std::vector<T>(std::move(data));
  py::capsule free_owner(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(owner->size())}, owner->data(), free_owner);
}

Pooling parse_pooling(const std::string& name) {
  if (name == "none") return Pooling::none;
  if (name == "cls") return Pooling::cls;
  if (name == "mean") return Pooling::mean;
  if (name == "max") return Pooling::max;
  if (name == "mean_sqrt_len") return Pooling::mean_sqrt_len;
  throw Error("pooling '" + name + "' is unknown (known: none, cls, mean, max, mean_sqrt_len)");
}

LoadOptions parse_load_options(const std::string& dtype, const std::string& backend,
                               bool load_head) {
  LoadOptions options;
  options.load_head = load_head;
  if (backend == "optimized") {
    options.backend = BackendKind::optimized;
  } else if (backend == "reference") {
    options.backend = BackendKind::reference;
  } else {
    throw Error("backend '" + backend + "' is unknown (known: optimized, reference)");
  }
  if (dtype == "f32") {
    options.dtype = ComputeType::f32;
  } else if (dtype == "bf16") {
    options.dtype = ComputeType::bf16;
  } else if (dtype == "int8") {
    options.dtype = ComputeType::int8;
  } else {
    throw Error("dtype '" + dtype + "' is unknown (known: f32, bf16, int8)");
  }
  if (options.backend == BackendKind::reference && options.dtype != ComputeType::f32) {
    throw Error("dtype " + dtype +
                " needs backend 'optimized' (the reference backend computes in float32 only)");
  }
  return options;
}

// What a Python caller handed to encode: texts (tokenized later, without the GIL), text pairs, or
// token ids already converted.
struct Inputs {
  std::vector<std::string> texts;
  std::vector<std::string> pairs;  // empty, or one per text
  std::vector<Sequence> sequences;
  bool is_text = false;
  size_t size() const { return is_text ? texts.size() : sequences.size(); }
};

std::vector<int64_t> ids_from(const py::handle& item, const char* what, size_t index) {
  // numpy arrays of any integer type and Python sequences of ints.
  if (py::isinstance<py::array>(item)) {
    auto array = py::reinterpret_borrow<py::array>(item);
    if (array.ndim() != 1) {
      throw Error(std::string(what) + "[" + std::to_string(index) + "] is a " +
                  std::to_string(array.ndim()) + "-d array; token ids are 1-d");
    }
    if (array.dtype().kind() != 'i' && array.dtype().kind() != 'u') {
      throw Error(std::string(what) + "[" + std::to_string(index) +
                  "]: token ids must be integers, not dtype " +
                  std::string(py::str(array.dtype())));
    }
    auto ids = array.cast<py::array_t<int64_t, py::array::forcecast>>();
    return std::vector<int64_t>(ids.data(), ids.data() + ids.size());
  }
  try {
    return item.cast<std::vector<int64_t>>();
  } catch (const py::cast_error&) {
    throw Error(std::string(what) + "[" + std::to_string(index) +
                "] is neither a text nor a sequence of token ids");
  }
}

// Python strings become UTF-8; one holding a lone surrogate cannot.
std::string text_from(const py::handle& item, size_t index) {
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
  if (utf8 == nullptr) {
    PyErr_Clear();
    throw Error("inputs[" + std::to_string(index) + "] cannot be encoded as UTF-8");
  }
  return std::string(utf8, static_cast<size_t>(size));
}

// texts: a str, a list of str, a list of (str, str) pairs; token ids: a 2-d integer array, or a
// list of 1-d arrays / lists of ints (ragged).
Inputs convert_inputs(const py::object& inputs, const py::object& token_type_ids) {
  Inputs out;
  if (py::isinstance<py::str>(inputs)) {
    out.is_text = true;
    out.texts.push_back(text_from(inputs, 0));
    return out;
  }
  if (py::isinstance<py::array>(inputs)) {
    auto array = py::reinterpret_borrow<py::array>(inputs);
    if (array.ndim() != 2) {
      throw Error("a numpy array of token ids must be 2-d [sequences, tokens], not " +
                  std::to_string(array.ndim()) + "-d (use a list of 1-d arrays for ragged input)");
    }
    if (array.dtype().kind() != 'i' && array.dtype().kind() != 'u') {
      throw Error("token ids must be integers, not dtype " + std::string(py::str(array.dtype())));
    }
    // One conversion of the whole array (none when it is C-contiguous int64), then rows.
    auto ids = array.cast<py::array_t<int64_t, py::array::c_style | py::array::forcecast>>();
    const auto rows = static_cast<size_t>(ids.shape(0));
    const auto cols = static_cast<size_t>(ids.shape(1));
    out.sequences.resize(rows);
    for (size_t i = 0; i < rows; ++i) {
      out.sequences[i].input_ids.assign(ids.data() + i * cols, ids.data() + (i + 1) * cols);
    }
    if (!token_type_ids.is_none()) {
      const py::sequence types = py::reinterpret_borrow<py::sequence>(token_type_ids);
      if (types.size() != rows) {
        throw Error("token_type_ids has " + std::to_string(types.size()) + " sequences, inputs " +
                    std::to_string(rows));
      }
      for (size_t i = 0; i < rows; ++i) {
        out.sequences[i].token_type_ids = ids_from(types[i], "token_type_ids", i);
      }
    }
    return out;
  }
  if (!py::isinstance<py::sequence>(inputs) && !py::isinstance<py::array>(inputs)) {
    throw Error("inputs must be a text, a list of texts or text pairs, or token ids");
  }
  const py::sequence items = py::reinterpret_borrow<py::sequence>(inputs);
  const size_t n = items.size();
  if (n > 0 && (py::isinstance<py::str>(items[0]) || py::isinstance<py::tuple>(items[0]))) {
    out.is_text = true;
    for (size_t i = 0; i < n; ++i) {
      const py::object item = items[i];
      if (py::isinstance<py::str>(item)) {
        if (!out.pairs.empty()) throw Error("inputs[" + std::to_string(i) + "] is not a pair");
        out.texts.push_back(text_from(item, i));
      } else if (py::isinstance<py::tuple>(item) && py::len(item) == 2 &&
                 py::isinstance<py::str>(item.cast<py::tuple>()[0]) &&
                 py::isinstance<py::str>(item.cast<py::tuple>()[1])) {
        if (out.pairs.size() != out.texts.size()) {
          throw Error("inputs[" + std::to_string(i) + "] is a pair among single texts");
        }
        const auto pair = item.cast<py::tuple>();
        out.texts.push_back(text_from(pair[0], i));
        out.pairs.push_back(text_from(pair[1], i));
      } else {
        throw Error("inputs[" + std::to_string(i) + "] is neither a text nor a (text, text) pair");
      }
    }
    if (!token_type_ids.is_none()) throw Error("token_type_ids apply to token-id inputs only");
    return out;
  }
  out.sequences.resize(n);
  for (size_t i = 0; i < n; ++i) out.sequences[i].input_ids = ids_from(items[i], "inputs", i);
  if (!token_type_ids.is_none()) {
    const py::sequence types = py::reinterpret_borrow<py::sequence>(token_type_ids);
    if (types.size() != n) {
      throw Error("token_type_ids has " + std::to_string(types.size()) + " sequences, inputs " +
                  std::to_string(n));
    }
    for (size_t i = 0; i < n; ++i) {
      out.sequences[i].token_type_ids = ids_from(types[i], "token_type_ids", i);
    }
  }
  return out;
}

EncodeOptions encode_options(const std::optional<std::string>& pooling,
                             std::optional<bool> normalize, int threads) {
  EncodeOptions options;
  if (threads < 0)
    throw Error("threads must be >= 0 (0: every core), not " + std::to_string(threads));
  options.threads = threads;
  if (pooling) options.pooling = parse_pooling(*pooling);
  options.normalize = normalize;
  return options;
}

// A loaded model and its folder's tokenizer (when the folder has one), shared by every Python
// reference to it; immutable, so Python threads call it at once.
class PyModel {
 public:
  PyModel(Model model, std::shared_ptr<Tokenizer> tokenizer, std::string tokenizer_error)
      : model_(std::move(model)),
        tokenizer_(std::move(tokenizer)),
        tokenizer_error_(std::move(tokenizer_error)) {}

  const Model& model() const { return model_; }

  const Tokenizer& tokenizer() const { return *shared_tokenizer(); }
  const std::shared_ptr<Tokenizer>& shared_tokenizer() const {
    if (!tokenizer_) throw Error(tokenizer_error_);
    return tokenizer_;
  }

  // Texts become token ids as `vecformer run --text` makes them: the folder's tokenizer, truncated
  // to max_length, else to the folder's limit (Model::max_sequence_length()). Called without the
  // GIL.
  std::vector<Sequence> to_sequences(Inputs&& inputs, size_t max_length) const {
    if (!inputs.is_text) {
      if (max_length > 0) throw Error("max_length applies to text inputs only");
      return std::move(inputs.sequences);
    }
    const Tokenizer& tok = tokenizer();
    EncodingOptions options;
    options.max_length =
        max_length > 0 ? max_length : static_cast<size_t>(model_.max_sequence_length());
    std::vector<Sequence> sequences(inputs.texts.size());
    for (size_t i = 0; i < inputs.texts.size(); ++i) {
      try {
        Encoding e = inputs.pairs.empty()
                         ? tok.encode_text(inputs.texts[i], options)
                         : tok.encode_pair(inputs.texts[i], inputs.pairs[i], options);
        sequences[i].input_ids = std::move(e.ids);
        if (!inputs.pairs.empty()) sequences[i].token_type_ids = std::move(e.type_ids);
      } catch (const Error& e) {
        throw Error("inputs[" + std::to_string(i) + "]: " + e.what());
      }
    }
    return sequences;
  }

 private:
  Model model_;
  std::shared_ptr<Tokenizer> tokenizer_;  // null when the folder has none
  std::string tokenizer_error_;
};

// Consecutive sequences of at most `budget` tokens (a longer one is a batch alone), as `vecformer
// run` batches: the end index of each batch.
std::vector<size_t> batch_ends(const std::vector<Sequence>& sequences, int64_t budget) {
  std::vector<size_t> ends;
  int64_t tokens = 0;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto length = static_cast<int64_t>(sequences[i].input_ids.size());
    if (tokens > 0 && tokens + length > budget) {
      ends.push_back(i);
      tokens = 0;
    }
    tokens += length;
  }
  if (!sequences.empty()) ends.push_back(sequences.size());
  return ends;
}

// Model::encode over token-budget batches. One batch: its Tensor is the result. Several: each
// batch's output is copied once into the whole result (unpooled outputs padded to the longest
// sequence of all, as Model::encode pads). A sequence's result does not depend on its batch.
Tensor encode_batched(const Model& model, const std::vector<Sequence>& sequences,
                      const EncodeOptions& options, int64_t batch_tokens) {
  if (batch_tokens < 1)
    throw Error("batch_tokens must be >= 1, not " + std::to_string(batch_tokens));
  const std::vector<size_t> ends = batch_ends(sequences, batch_tokens);
  if (ends.size() <= 1) return model.encode(sequences, options);
  const int64_t hidden = model.config().hidden_size;
  const bool pooled = options.pooling.value_or(model.default_pooling()) != Pooling::none;
  int64_t longest = 0;
  for (const Sequence& s : sequences)
    longest = std::max(longest, static_cast<int64_t>(s.input_ids.size()));
  const auto n = static_cast<int64_t>(sequences.size());
  const int64_t rows = pooled ? 1 : longest;  // rows per sequence in the result
  Tensor result;
  result.shape =
      pooled ? std::vector<int64_t>{n, hidden} : std::vector<int64_t>{n, longest, hidden};
  result.data.assign(static_cast<size_t>(n * rows * hidden), 0.0f);
  size_t begin = 0;
  for (const size_t end : ends) {
    const std::vector<Sequence> batch(sequences.begin() + static_cast<std::ptrdiff_t>(begin),
                                      sequences.begin() + static_cast<std::ptrdiff_t>(end));
    const Tensor out = model.encode(batch, options);
    const int64_t batch_rows = pooled ? 1 : out.shape[1];
    for (size_t i = 0; i < batch.size(); ++i) {
      std::memcpy(result.data.data() + (begin + i) * rows * hidden,
                  out.data.data() + i * batch_rows * hidden,
                  sizeof(float) * static_cast<size_t>(batch_rows * hidden));
    }
    begin = end;
  }
  return result;
}

py::dict config_dict(const Config& c) {
  py::dict d;
  d["model_type"] = c.model_type;
  d["hidden_size"] = c.hidden_size;
  d["num_attention_heads"] = c.num_attention_heads;
  d["intermediate_size"] = c.intermediate_size;
  d["num_hidden_layers"] = c.num_hidden_layers;
  d["hidden_act"] = std::string(to_string(c.hidden_act));
  d["layer_norm_eps"] = c.layer_norm_eps;
  d["vocab_size"] = c.vocab_size;
  d["max_position_embeddings"] = c.max_position_embeddings;
  d["type_vocab_size"] = c.type_vocab_size;
  d["position_embedding_type"] = std::string(to_string(c.position_embedding_type));
  d["norm_first"] = c.norm_first;
  d["position_offset"] = c.position_offset;
  d["head_dim"] = c.head_dim();
  d["max_length"] = c.max_length();
  return d;
}

py::dict info_dict(const Model& model) {
  const ModelInfo& i = model.info();
  py::dict d;
  d["model_type"] = i.model_type;
  d["parameters"] = i.parameters;
  d["weights_dtype"] = i.weights_dtype;
  d["transformer_folder"] = i.transformer_folder.string();
  py::dict times;
  times["open_ms"] = i.load_times.open_ms;
  times["read_ms"] = i.load_times.read_ms;
  times["prepare_ms"] = i.load_times.prepare_ms;
  d["load_times"] = times;
  py::dict head;
  head["kind"] = std::string(to_string(i.head.kind));
  head["architecture"] = i.head.architecture;
  head["architectures"] = i.head.architectures;
  head["labels"] = i.head.labels;
  head["scoring"] = std::string(to_string(i.head.scoring));
  // Sequence classification reads its first token ("cls") or the mean of its tokens ("mean").
  head["pooling"] = std::string(to_string(i.head.pooling));
  d["head"] = head;
  d["head_loaded"] = i.head_loaded;
  d["backend"] = model.backend() == BackendKind::reference ? "reference" : "optimized";
  d["default_pooling"] = std::string(to_string(model.default_pooling()));
  d["default_normalize"] = model.default_normalize();
  d["max_sequence_length"] = model.max_sequence_length();
  return d;
}

py::dict encoding_dict(Encoding&& e) {
  py::dict d;
  d["ids"] = vector_to_numpy(std::move(e.ids));
  d["type_ids"] = vector_to_numpy(std::move(e.type_ids));
  d["tokens"] = e.tokens;
  d["offsets"] = e.offsets;
  d["sequence_ids"] = e.sequence_ids;
  d["word_ids"] = e.word_ids;
  d["special_tokens_mask"] = vector_to_numpy(std::move(e.special_tokens_mask));
  return d;
}

py::dict special_dict(const Tokenizer& t) {
  py::dict d;
  const auto add = [&](const char* name, const Tokenizer::Special& s) {
    if (s.id >= 0) d[name] = py::make_tuple(s.token, s.id);
  };
  add("cls", t.cls_token());
  add("sep", t.sep_token());
  add("pad", t.pad_token());
  add("mask", t.mask_token());
  add("unk", t.unk_token());
  return d;
}

constexpr const char* kInputsDoc =
    "inputs: a text, a list of texts, a list of (text, text) pairs, a 2-d integer numpy array of "
    "token ids, or a list of token-id sequences (lists or 1-d integer arrays of any length). "
    "Texts are tokenized with the model folder's tokenizer and truncated to max_length, else to "
    "the folder's limit (as `vecformer run --text`).";

}  // namespace

}  // namespace vecformer::python

using namespace vecformer;
using namespace vecformer::python;

PYBIND11_MODULE(_vecformer, m) {
  m.doc() =
      "vecformer: transformer encoders (BERT, RoBERTa, DistilBERT, ...) on CPU.\n\n"
      "A thin binding of the C++ library: Model.load a Hugging Face or sentence-transformers "
      "folder, then Model.encode texts or token ids into numpy float32 arrays. The GIL is "
      "released while tokenizing and encoding, and a Model is safe to share between Python "
      "threads. Problems with inputs, options or model folders raise vecformer.Error (a "
      "ValueError) carrying the C++ message.";

  py::register_exception<Error>(m, "Error", PyExc_ValueError).attr("__doc__") =
      "A problem with a model folder, an input or an option; the message names the file, field or "
      "input at fault. A subclass of ValueError.";

#ifdef VECFORMER_VERSION
  m.attr("__version__") = VECFORMER_VERSION;
#endif

  py::class_<Tokenizer, std::shared_ptr<Tokenizer>>(
      m, "Tokenizer",
      "A Hugging Face tokenizer (tokenizer.json, or vocab.txt / vocab.json + merges.txt) with the "
      "ids, token types and character offsets of HF's `tokenizers`. Immutable; thread-safe.")
      .def_static(
          "load",
          [](const std::filesystem::path& folder) {
            py::gil_scoped_release release;
            return std::make_shared<Tokenizer>(Tokenizer::load(folder));
          },
          py::arg("folder"), "Load the tokenizer of a model folder.")
      .def(
          "encode",
          [](const Tokenizer& t, const std::string& text, const std::optional<std::string>& pair,
             size_t max_length, bool add_special_tokens) {
            EncodingOptions options{max_length, add_special_tokens};
            Encoding e;
            {
              py::gil_scoped_release release;
              e = pair ? t.encode_pair(text, *pair, options) : t.encode_text(text, options);
            }
            return encoding_dict(std::move(e));
          },
          py::arg("text"), py::arg("pair") = py::none(), py::arg("max_length") = 0,
          py::arg("add_special_tokens") = true,
          "Encode a text (or a text pair) into a dict: ids and type_ids (int64 arrays), tokens, "
          "offsets ([start, end) in code points; (0, 0) for added special tokens), sequence_ids, "
          "word_ids and special_tokens_mask. max_length > 0 truncates (longest_first for pairs).")
      .def(
          "tokenize",
          [](const Tokenizer& t, const std::string& text) {
            py::gil_scoped_release release;
            return t.tokenize(text);
          },
          py::arg("text"), "The token strings of a text, without special tokens.")
      .def("token_to_id", &Tokenizer::token_to_id, py::arg("token"),
           "The id of a token string, or -1.")
      .def("id_to_token", &Tokenizer::id_to_token, py::arg("id"), "The token string of an id.")
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size, "Number of ids.")
      .def_property_readonly("model_max_length", &Tokenizer::model_max_length,
                             "tokenizer_config.json's model_max_length, or 0.")
      .def_property_readonly("special_tokens", &special_dict,
                             "The special tokens present: name -> (token, id).");

  py::class_<PyModel, std::shared_ptr<PyModel>>(
      m, "Model",
      "A loaded encoder (and its task head when loaded with load_head=True). Immutable after "
      "load: share one Model between threads rather than loading one per thread.")
      .def_static(
          "load",
          [](const std::filesystem::path& path, const std::string& dtype,
             const std::string& backend, bool load_head) {
            const LoadOptions options = parse_load_options(dtype, backend, load_head);
            py::gil_scoped_release release;
            Model model = Model::load(path, options);
            std::shared_ptr<Tokenizer> tokenizer;
            std::string tokenizer_error;
            try {
              tokenizer =
                  std::make_shared<Tokenizer>(Tokenizer::load(model.info().transformer_folder));
            } catch (const Error& e) {
              tokenizer_error = std::string("this model takes token ids only: ") + e.what();
            }
            return std::make_shared<PyModel>(std::move(model), std::move(tokenizer),
                                             std::move(tokenizer_error));
          },
          py::arg("path"), py::arg("dtype") = "f32", py::arg("backend") = "optimized",
          py::arg("load_head") = false,
          "Load a model folder. dtype: 'f32', 'bf16' or 'int8' (the last two need the optimized "
          "backend); backend: 'optimized' or 'reference'; load_head: also load the task head "
          "config.json's architectures names (for classify, rerank, classify_tokens, fill_mask).")
      .def(
          "encode",
          [](const PyModel& self, const py::object& inputs,
             const std::optional<std::string>& pooling, std::optional<bool> normalize, int threads,
             int64_t batch_tokens, size_t max_length, const py::object& token_type_ids) {
            Inputs in = convert_inputs(inputs, token_type_ids);
            const EncodeOptions options = encode_options(pooling, normalize, threads);
            Tensor out;
            {
              py::gil_scoped_release release;
              const std::vector<Sequence> sequences = self.to_sequences(std::move(in), max_length);
              out = encode_batched(self.model(), sequences, options, batch_tokens);
            }
            return to_numpy(std::move(out));
          },
          py::arg("inputs"), py::arg("pooling") = py::none(), py::arg("normalize") = py::none(),
          py::arg("threads") = 0, py::arg("batch_tokens") = kBatchTokens, py::arg("max_length") = 0,
          py::arg("token_type_ids") = py::none(),
          (std::string("Encode into a float32 numpy array: [N, hidden] when pooled, else [N, "
                       "Lmax, hidden] with zero rows past each sequence's end.\n\n") +
           kInputsDoc +
           "\npooling: None (the folder's default), 'none', 'cls', 'mean', 'max' or "
           "'mean_sqrt_len'. normalize: None (the folder's default), True or False (L2 per "
           "output vector). threads: OpenMP threads for this call, 0 = every core. "
           "batch_tokens: tokens per encode call (bounds memory; results do not depend on it). "
           "token_type_ids: per sequence, for token-id inputs.")
              .c_str())
      .def(
          "encode_packed",
          [](const PyModel& self, const py::object& inputs, int threads, size_t max_length,
             const py::object& token_type_ids) {
            Inputs in = convert_inputs(inputs, token_type_ids);
            const EncodeOptions options = encode_options(std::nullopt, std::nullopt, threads);
            PackedOutput out;
            {
              py::gil_scoped_release release;
              const std::vector<Sequence> sequences = self.to_sequences(std::move(in), max_length);
              out = self.model().encode_packed(sequences, options);
            }
            return py::make_tuple(to_numpy(std::move(out.hidden)),
                                  vector_to_numpy(std::move(out.offsets)));
          },
          py::arg("inputs"), py::arg("threads") = 0, py::arg("max_length") = 0,
          py::arg("token_type_ids") = py::none(),
          (std::string("The last hidden states without padding: (hidden [T, hidden] float32, "
                       "offsets [N+1] int64); rows offsets[i]:offsets[i+1] are sequence i's.\n\n") +
           kInputsDoc)
              .c_str())
      .def(
          "tokenize",
          [](const PyModel& self, const py::object& inputs, size_t max_length) {
            Inputs in = convert_inputs(inputs, py::none());
            std::vector<Sequence> sequences;
            {
              py::gil_scoped_release release;
              sequences = self.to_sequences(std::move(in), max_length);
            }
            py::list out;
            for (Sequence& s : sequences) out.append(vector_to_numpy(std::move(s.input_ids)));
            return out;
          },
          py::arg("inputs"), py::arg("max_length") = 0,
          "The token ids encode() would run for these texts (a list of int64 arrays).")
      .def(
          "classify",
          [](const PyModel& self, const py::object& inputs, int threads, size_t max_length,
             const py::object& token_type_ids) {
            Inputs in = convert_inputs(inputs, token_type_ids);
            const EncodeOptions options = encode_options(std::nullopt, std::nullopt, threads);
            LabelScores out;
            {
              py::gil_scoped_release release;
              const std::vector<Sequence> sequences = self.to_sequences(std::move(in), max_length);
              out = self.model().classify(sequences, options);
            }
            return py::make_tuple(to_numpy(std::move(out.logits)), to_numpy(std::move(out.scores)));
          },
          py::arg("inputs"), py::arg("threads") = 0, py::arg("max_length") = 0,
          py::arg("token_type_ids") = py::none(),
          (std::string("The sequence-classification head (load_head=True): (logits, scores), "
                       "[N, labels] float32 each; scores as info['head']['scoring'] says; "
                       "labels in info['head']['labels'].\n\n") +
           kInputsDoc)
              .c_str())
      .def(
          "rerank",
          [](const PyModel& self, const std::string& query,
             const std::vector<std::string>& documents, int threads, size_t max_length) {
            Inputs in;
            in.is_text = true;
            in.texts.assign(documents.size(), query);
            in.pairs = documents;
            const EncodeOptions options = encode_options(std::nullopt, std::nullopt, threads);
            LabelScores out;
            {
              py::gil_scoped_release release;
              const std::vector<Sequence> sequences = self.to_sequences(std::move(in), max_length);
              out = self.model().classify(sequences, options);
            }
            if (out.scores.shape.size() != 2 || out.scores.shape[1] != 1) {
              throw Error(
                  "rerank needs a cross-encoder (a one-label classification head); this "
                  "head has " +
                  std::to_string(out.scores.shape.size() == 2 ? out.scores.shape[1] : 0) +
                  " labels");
            }
            return to_numpy(std::move(out.scores.data), {out.scores.shape[0]});
          },
          py::arg("query"), py::arg("documents"), py::arg("threads") = 0, py::arg("max_length") = 0,
          "A cross-encoder's score of each (query, document) pair, in document order: the "
          "one-label head's sigmoid, as `vecformer rerank` and sentence-transformers' "
          "CrossEncoder.")
      .def(
          "classify_tokens",
          [](const PyModel& self, const py::object& inputs, int threads, size_t max_length,
             const py::object& token_type_ids) {
            Inputs in = convert_inputs(inputs, token_type_ids);
            const EncodeOptions options = encode_options(std::nullopt, std::nullopt, threads);
            TokenLabelScores out;
            {
              py::gil_scoped_release release;
              const std::vector<Sequence> sequences = self.to_sequences(std::move(in), max_length);
              out = self.model().classify_tokens(sequences, options);
            }
            return py::make_tuple(to_numpy(std::move(out.logits)), to_numpy(std::move(out.scores)),
                                  vector_to_numpy(std::move(out.offsets)));
          },
          py::arg("inputs"), py::arg("threads") = 0, py::arg("max_length") = 0,
          py::arg("token_type_ids") = py::none(),
          (std::string("The token-classification head (load_head=True): (logits, scores, "
                       "offsets); logits and scores are [T, labels], rows offsets[i]:offsets[i+1] "
                       "are sequence i's tokens (special tokens included).\n\n") +
           kInputsDoc)
              .c_str())
      .def(
          "masked_lm_logits",
          [](const PyModel& self, const py::object& inputs,
             const std::vector<std::pair<int64_t, int64_t>>& positions, int threads,
             size_t max_length) {
            Inputs in = convert_inputs(inputs, py::none());
            const EncodeOptions options = encode_options(std::nullopt, std::nullopt, threads);
            std::vector<TokenPosition> at;
            for (const auto& [sequence, position] : positions) at.push_back({sequence, position});
            Tensor out;
            {
              py::gil_scoped_release release;
              const std::vector<Sequence> sequences = self.to_sequences(std::move(in), max_length);
              out = self.model().masked_lm_logits(sequences, at, options);
            }
            return to_numpy(std::move(out));
          },
          py::arg("inputs"), py::arg("positions"), py::arg("threads") = 0,
          py::arg("max_length") = 0,
          "The masked-LM head's logits at the given (sequence, token position) pairs: "
          "[positions, vocab] float32.")
      .def(
          "fill_mask",
          [](const PyModel& self, const py::object& inputs, int64_t top_k, int threads,
             size_t max_length) {
            Inputs in = convert_inputs(inputs, py::none());
            const EncodeOptions options = encode_options(std::nullopt, std::nullopt, threads);
            std::vector<TokenPosition> at;
            std::vector<std::vector<TokenPrediction>> predictions;
            {
              py::gil_scoped_release release;
              const std::vector<Sequence> sequences = self.to_sequences(std::move(in), max_length);
              const Tokenizer::Special mask = self.tokenizer().mask_token();
              if (mask.id < 0) throw Error("the model's tokenizer has no mask token");
              for (size_t s = 0; s < sequences.size(); ++s) {
                const auto& ids = sequences[s].input_ids;
                for (size_t p = 0; p < ids.size(); ++p) {
                  if (ids[p] == mask.id)
                    at.push_back({static_cast<int64_t>(s), static_cast<int64_t>(p)});
                }
              }
              if (at.empty()) throw Error("no input holds the mask token " + mask.token);
              predictions =
                  top_predictions(self.model().masked_lm_logits(sequences, at, options), top_k);
            }
            py::list out;
            for (size_t i = 0; i < at.size(); ++i) {
              py::list candidates;
              for (const TokenPrediction& p : predictions[i]) {
                py::dict d;
                d["token_id"] = p.token_id;
                d["token"] = self.tokenizer().id_to_token(p.token_id);
                d["score"] = p.score;
                candidates.append(d);
              }
              py::dict entry;
              entry["sequence"] = at[i].sequence;
              entry["position"] = at[i].position;
              entry["predictions"] = candidates;
              out.append(entry);
            }
            return out;
          },
          py::arg("inputs"), py::arg("top_k") = 5, py::arg("threads") = 0,
          py::arg("max_length") = 0,
          "The masked-LM head (load_head=True) at every mask token of the texts: a list, one "
          "entry per mask ({'sequence', 'position', 'predictions': [{'token_id', 'token', "
          "'score'}, ...]}), the top_k tokens by softmax score, highest first.")
      .def_property_readonly(
          "config", [](const PyModel& self) { return config_dict(self.model().config()); },
          "config.json as vecformer read it (a dict).")
      .def_property_readonly(
          "info", [](const PyModel& self) { return info_dict(self.model()); },
          "What was loaded (a dict): model type, parameters, weights dtype, folder, load times, "
          "head, backend, default pooling and normalization, max_sequence_length.")
      .def("__repr__",
           [](const PyModel& self) {
             const ModelInfo& i = self.model().info();
             return "<vecformer.Model " + i.model_type + " '" + i.transformer_folder.string() +
                    "' hidden " + std::to_string(self.model().config().hidden_size) + ", " +
                    (self.model().backend() == BackendKind::reference ? "reference" : "optimized") +
                    ">";
           })
      .def_property_readonly(
          "tokenizer", [](const PyModel& self) { return self.shared_tokenizer(); },
          "The model folder's Tokenizer.");
}
