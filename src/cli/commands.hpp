#pragma once

#include <CLI/CLI.hpp>

namespace vecformer::cli {

// Each subcommand registers its options on the app and returns the function that runs it once
// parsed. A runner returns the process exit code; it reports failures by throwing vecformer::Error.
using Runner = std::function<int()>;

Runner add_run_command(CLI::App& app);
Runner add_tokenize_command(CLI::App& app);
Runner add_info_command(CLI::App& app);
Runner add_bench_command(CLI::App& app);
Runner add_explain_command(CLI::App& app);
Runner add_classify_command(CLI::App& app);
Runner add_tag_command(CLI::App& app);
Runner add_rerank_command(CLI::App& app);
Runner add_fill_mask_command(CLI::App& app);
Runner add_serve_command(CLI::App& app);

}  // namespace vecformer::cli
