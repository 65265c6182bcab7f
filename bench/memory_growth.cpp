// Resident memory of a long-running Model fed one sequence of every length in [first, last]: what
// a server batching by a token budget sees (one distinct token count after another). Prints the
// resident set after a warm-up call at the longest length and after the sweep, in MB.
//   build/bench/vecformer_memory_growth MODEL_DIR [first=101] [last=500] [threads=0]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vecformer/vecformer.hpp>

namespace {

double resident_mb() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

vecformer::Sequence sequence_of(int64_t length, int64_t vocab) {
  vecformer::Sequence s;
  for (int64_t t = 0; t < length; ++t) s.input_ids.push_back((t * 7919 + 1) % vocab);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [first] [last] [threads]\n", argv[0]);
    return 2;
  }
  const int64_t first = argc > 2 ? std::atoll(argv[2]) : 101;
  const int64_t last = argc > 3 ? std::atoll(argv[3]) : 500;
  vecformer::EncodeOptions options;
  options.threads = argc > 4 ? std::atoi(argv[4]) : 0;
  const vecformer::Model model = vecformer::Model::load(argv[1]);
  const double loaded = resident_mb();
  const int64_t vocab = model.config().vocab_size;
  (void)model.encode_packed({sequence_of(last, vocab)}, options);  // the workspace at its largest
  const double warm = resident_mb();
  for (int64_t length = first; length <= last; ++length) {
    (void)model.encode_packed({sequence_of(length, vocab)}, options);
  }
  const double after = resident_mb();
  std::printf(
      "{\"loaded_mb\": %.1f, \"warm_mb\": %.1f, \"after_mb\": %.1f, \"growth_mb\": %.1f, "
      "\"lengths\": %lld}\n",
      loaded, warm, after, after - warm, static_cast<long long>(last - first + 1));
  return 0;
}
