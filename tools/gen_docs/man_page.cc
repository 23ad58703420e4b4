#include "tools/gen_docs/man_page.h"

#include <cctype>
#include <vector>

#include <fmt/core.h>

#include "tools/gen_docs/markdown_roff.h"
#include "tools/gen_docs/roff.h"

namespace airlock::gendocs {

namespace {

std::vector<std::string> paragraphs(std::string_view text) {
  std::vector<std::string> out(1);
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (line.find_first_not_of(' ') == std::string_view::npos) {
      if (!out.back().empty()) {
        out.emplace_back();
      }
    } else {
      out.back() += out.back().empty() ? std::string(line) : "\n" + std::string(line);
    }
    start = end + 1;
  }
  if (out.back().empty()) {
    out.pop_back();
  }
  return out;
}

// "airlock-bundler: pack a deployment ... media." -> "pack a deployment ... media"
std::string summary(const CommandDoc& program) {
  std::vector<std::string> paras = paragraphs(program.description);
  std::string s = paras.empty() ? program.program : paras.front();
  if (s.starts_with(program.program + ": ")) {
    s.erase(0, program.program.size() + 2);
  }
  for (char& c : s) {
    if (c == '\n') {
      c = ' ';
    }
  }
  // The whatis line is the first sentence.
  if (const std::size_t stop = s.find(". "); stop != std::string::npos) {
    s.resize(stop);
  }
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// The App's description: text paragraphs filled, indented ones (examples)
// kept as they are.
std::string description_roff(std::string_view text) {
  std::string out;
  for (const std::string& p : paragraphs(text)) {
    if (p.starts_with("  ")) {
      out += ".PP\n.RS 4\n.nf\n";
      std::size_t start = 0;
      while (start <= p.size()) {
        std::size_t end = p.find('\n', start);
        if (end == std::string::npos) {
          end = p.size();
        }
        std::string_view line = std::string_view(p).substr(start, end - start);
        line.remove_prefix(std::min(line.find_first_not_of(' '), std::size_t{2}));
        out += roff::line(roff::literal(line)) + "\n";
        start = end + 1;
      }
      out += ".fi\n.RE\n";
    } else {
      std::string joined = p;
      for (char& c : joined) {
        if (c == '\n') {
          c = ' ';
        }
      }
      out += ".PP\n" + fill_lines(roff::text(joined));
    }
  }
  return out;
}

std::string bold(std::string_view s) { return "\\fB" + roff::literal(s) + "\\fP"; }
std::string italic(std::string_view s) { return "\\fI" + roff::literal(s) + "\\fP"; }

std::string option_tag(const OptionDoc& o) {
  if (!o.positional.empty()) {
    return italic(o.positional);
  }
  std::string tag;
  for (const std::string& n : o.names) {
    tag += (tag.empty() ? "" : ", ") + bold(n);
  }
  if (!o.metavar.empty()) {
    tag += " " + italic(o.metavar);
  }
  return tag;
}

std::string option_body(const OptionDoc& o) {
  std::vector<std::string> notes;
  if (o.required) {
    notes.emplace_back("required");
  }
  if (o.repeatable) {
    notes.emplace_back("repeatable");
  }
  if (!o.default_value.empty()) {
    notes.push_back("default " + bold(o.default_value));
  }
  if (!o.choices.empty()) {
    std::string list;
    for (const std::string& c : o.choices) {
      list += (list.empty() ? "" : ", ") + bold(c);
    }
    notes.push_back("one of " + list);
  } else if (!o.constraint.empty()) {
    notes.push_back(roff::text(o.constraint));
  }
  std::string body = roff::text(o.description);
  if (!notes.empty()) {
    std::string joined;
    for (const std::string& n : notes) {
      joined += (joined.empty() ? "" : "; ") + n;
    }
    body += (body.empty() ? "(" : " (") + joined + ")";
  }
  return fill_lines(body);
}

std::string entries(const std::vector<OptionDoc>& opts, bool skip_help) {
  std::string out;
  for (const OptionDoc& o : opts) {
    if (skip_help && o.is_help) {
      continue;
    }
    out += ".TP\n" + roff::line(option_tag(o)) + "\n" + option_body(o);
  }
  return out;
}

bool has_own_options(const CommandDoc& c) {
  for (const OptionDoc& o : c.options) {
    if (!o.is_help) {
      return true;
    }
  }
  return false;
}

// "\fBairlock-installer trust add\fP [\fIoptions\fP] \fIkey\fP"
std::string usage(const CommandDoc& c) {
  std::string out = bold(c.path.empty() ? c.program : c.program + " " + c.path_string());
  if (c.path.empty() || has_own_options(c)) {
    out += " [" + italic("options") + "]";
  }
  if (!c.subcommands.empty()) {
    out += c.requires_subcommand ? " " + italic("command") : " [" + italic("command") + "]";
  }
  for (const OptionDoc& p : c.positionals) {
    std::string name = italic(p.positional) + (p.repeatable ? " ..." : "");
    out += p.required ? " " + name : " [" + name + "]";
  }
  return out;
}

std::string command_section(const CommandDoc& c) {
  std::string out = ".SS " + roff::quoted(roff::literal(c.path_string())) + "\n";
  out += ".PP\n" + roff::line(usage(c)) + "\n";
  out += description_roff(c.description);
  if (!c.subcommands.empty()) {
    std::string names;
    for (const CommandDoc& s : c.subcommands) {
      names += (names.empty() ? "" : ", ") + bold(c.path_string() + " " + s.path.back());
    }
    out += ".PP\n" + fill_lines("Commands: " + names + ".");
  }
  out += entries(c.positionals, false);
  out += entries(c.options, true);
  if (!c.footer.empty()) {
    out += description_roff(c.footer);
  }
  return out;
}

}  // namespace

Result<std::string> render_man_page(const CommandDoc& program, std::string_view source, std::string_view manual_md,
                                    std::string_view manual_name) {
  std::string upper = program.program;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string out = fmt::format(
      ".\\\" Generated by airlock-gen-docs from {}'s command-line definition and {}; do not edit.\n"
      ".TH {} 1 \"\" {} \"Airlock manual\"\n{}"
      ".SH NAME\n{} \\- {}\n",
      program.program, manual_name, roff::literal(upper), roff::quoted(roff::text(source)), roff::k_page_setup,
      roff::literal(program.program), roff::text(summary(program)));

  out += ".SH SYNOPSIS\n.nf\n" + roff::line(usage(program)) + "\n";
  const std::vector<const CommandDoc*> all = flatten(program);
  for (const CommandDoc* c : all) {
    if (!c->path.empty() && c->subcommands.empty()) {
      out += roff::line(usage(*c)) + "\n";
    }
  }
  out += ".fi\n";

  out += ".SH DESCRIPTION\n" + description_roff(program.description);
  if (!program.footer.empty()) {
    out += description_roff(program.footer);
  }

  out += ".SH OPTIONS\n";
  if (program.fallthrough) {
    out += ".PP\n" + fill_lines("These options may be given before or after the command.");
  }
  out += entries(program.options, false);

  if (!program.subcommands.empty()) {
    out += ".SH COMMANDS\n.PP\n" + fill_lines("Every command also takes " + bold("-h") + ", " + bold("--help") +
                                              ", which prints its options and exits.");
    for (const CommandDoc* c : all) {
      if (!c->path.empty()) {
        out += command_section(*c);
      }
    }
  }

  ASSIGN_OR_RETURN(std::string manual, markdown_to_roff(manual_md, manual_name));
  out += manual;
  return out;
}

}  // namespace airlock::gendocs
