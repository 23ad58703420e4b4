#pragma once
// A program's command line as the documentation sees it: a neutral copy of a
// CLI11 App tree (subcommands, options, flags, positionals, help texts,
// defaults, checks), taken from the App the program itself parses with, so the
// man page and the completion script say exactly what --help says.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace airlock::gendocs {

// What a shell should offer for an option's value or a positional.
enum class ValueKind { kNone, kFile, kDir, kChoices };

struct OptionDoc {
  std::vector<std::string> names;  // "-o", "--out"; empty for a positional
  std::string positional;          // a positional's name; empty for an option
  std::string metavar;             // "TEXT", "DIR", "UINT"; empty for a flag
  std::string constraint;          // a check's text, e.g. "INT in [1 - 19]"
  std::vector<std::string> choices;  // from an IsMember check
  std::string description;
  std::string default_value;
  bool required = false;
  bool repeatable = false;
  ValueKind value_kind = ValueKind::kNone;
  bool is_help = false;  // -h/--help or --version: CLI11's own

  bool is_flag() const { return positional.empty() && metavar.empty(); }
};

struct CommandDoc {
  std::string program;             // "airlock-installer"
  std::vector<std::string> path;   // {"trust", "add"}; empty for the program itself
  std::string description;
  std::string footer;
  std::vector<OptionDoc> options;  // in definition order, help first
  std::vector<OptionDoc> positionals;
  std::vector<CommandDoc> subcommands;
  bool requires_subcommand = false;
  bool fallthrough = false;  // options it does not know go to its parent

  std::string path_string() const;  // "trust add"; "" for the program
};

// Walks app (and every enabled subcommand below it). Hidden options (an empty
// group) are left out, as --help leaves them out.
CommandDoc describe(const CLI::App& app);

// Every command in the tree, depth first, the program itself first.
std::vector<const CommandDoc*> flatten(const CommandDoc& root);

}  // namespace airlock::gendocs
