// vecformer command line: one subcommand per file. Every failure ends in exactly one line
// "vecformer: error: ..." on stderr. Exit 2 when the command line itself is wrong (unknown or
// missing options, bad values, options that do not go together, a value the model rejects such as
// a layer it does not have, an output name of unknown format); exit 1 when the inputs or files it
// names are (model folder, input lines, output folder).
#include <cctype>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "vecformer/error.hpp"

namespace {

constexpr int kExitInputError = 1;
constexpr int kExitUsageError = 2;

// CLI11 messages may span lines; the contract is one line.
// Control characters (from any message source) never reach the terminal.
std::string one_line(const std::string& message) {
  std::string line;
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r' || c == '\t') {
      line += ' ';
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      line += escaped;
    } else {
      line += c;
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// The first argument of args[from..] that looks like an option (--name, --name=value, -x) and is
// not one of `command`'s, or empty.
std::string unknown_option(const CLI::App& command, int from, int argc, char** argv) {
  for (int i = from; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    const bool long_name = arg.size() > 2 && arg.rfind("--", 0) == 0;
    const bool short_name =
        arg.size() == 2 && arg[0] == '-' && std::isalpha(static_cast<unsigned char>(arg[1]));
    if (!long_name && !short_name) continue;
    const std::string name = arg.substr(0, arg.find('='));
    bool known = false;
    for (const CLI::Option* option : command.get_options())
      known = known || option->check_name(name);
    if (!known) return arg;
  }
  return {};
}

// CLI11 checks required options before unknown ones, so `vecformer run --modle x` would be told
// that --model is missing. The more useful line names what was not understood: a missing or
// unknown subcommand, or the first argument that looks like an option the command does not have.
std::string unknown_argument(const CLI::App& app, int argc, char** argv) {
  std::string names;
  const CLI::App* command = nullptr;
  const std::string first = argc > 1 ? argv[1] : "";
  for (const CLI::App* sub : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    if (sub->get_name() == first) command = sub;
  }
  if (command) {
    const std::string option = unknown_option(*command, 2, argc, argv);
    if (option.empty()) return {};
    return "unknown option '" + option + "' for 'vecformer " + first + "'";
  }
  if (first.empty()) return "a subcommand is required: " + names;
  if (first[0] != '-') return "unknown subcommand '" + first + "' (expected one of: " + names + ")";
  const std::string option = unknown_option(app, 1, argc, argv);
  if (!option.empty()) return "unknown option '" + option + "'";
  return "a subcommand is required: " + names;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vecformer: transformer encoders on CPU", "vecformer"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vecformer 0.1.0");

  std::vector<std::pair<CLI::App*, vecformer::cli::Runner>> commands;
  using Adder = vecformer::cli::Runner (*)(CLI::App&);
  const std::pair<const char*, Adder> subcommands[] = {
      {"run", &vecformer::cli::add_run_command},
      {"tokenize", &vecformer::cli::add_tokenize_command},
      {"info", &vecformer::cli::add_info_command},
      {"bench", &vecformer::cli::add_bench_command},
      {"explain", &vecformer::cli::add_explain_command},
      {"classify", &vecformer::cli::add_classify_command},
      {"tag", &vecformer::cli::add_tag_command},
      {"rerank", &vecformer::cli::add_rerank_command},
      {"fill-mask", &vecformer::cli::add_fill_mask_command},
      {"serve", &vecformer::cli::add_serve_command},
  };
  for (const auto& [name, add] : subcommands) {
    vecformer::cli::Runner runner = add(app);
    commands.emplace_back(app.get_subcommand(name), std::move(runner));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string unknown = unknown_argument(app, argc, argv);
    std::cerr << "vecformer: error: " << one_line(unknown.empty() ? e.what() : unknown)
              << " (see vecformer --help)\n";
    return kExitUsageError;
  }

  for (auto& [command, runner] : commands) {
    if (!command->parsed()) continue;
    try {
      return runner();
    } catch (const vecformer::cli::UsageError& e) {
      std::cerr << "vecformer: error: " << one_line(e.what()) << " (see vecformer "
                << command->get_name() << " --help)\n";
      return kExitUsageError;
    } catch (const std::exception& e) {
      std::cerr << "vecformer: error: " << one_line(e.what()) << "\n";
      return kExitInputError;
    }
  }
  return kExitUsageError;
}
