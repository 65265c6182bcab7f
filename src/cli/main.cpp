// vecformer command line: one subcommand per file. Every failure ends in exactly one line
// "vecformer: error: ..." on stderr; exit 1 for bad input, 2 for usage errors.
#include <cstdio>
#include <iostream>
#include <vector>

#include "cli/commands.hpp"
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
    std::cerr << "vecformer: error: " << one_line(e.what()) << " (see vecformer --help)\n";
    return kExitUsageError;
  }

  try {
    for (auto& [command, runner] : commands) {
      if (command->parsed()) return runner();
    }
  } catch (const vecformer::Error& e) {
    std::cerr << "vecformer: error: " << one_line(e.what()) << "\n";
    return kExitInputError;
  } catch (const std::exception& e) {
    std::cerr << "vecformer: error: " << one_line(e.what()) << "\n";
    return kExitInputError;
  }
  return kExitUsageError;
}
