#include "tools/gen_docs/cli_tree.h"

#include <string_view>

namespace airlock::gendocs {

namespace {

// CLI11's type name is "TYPE" or "TYPE:CHECK:CHECK..." (each check's own text).
void split_type_name(const std::string& full, OptionDoc& doc) {
  const std::size_t colon = full.find(':');
  doc.metavar = full.substr(0, colon);
  if (colon == std::string::npos) {
    return;
  }
  doc.constraint = full.substr(colon + 1);
  // CLI::IsMember describes itself as "{a,b,c}".
  if (doc.constraint.size() >= 2 && doc.constraint.front() == '{' && doc.constraint.back() == '}') {
    std::string_view list(doc.constraint);
    list = list.substr(1, list.size() - 2);
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      doc.choices.emplace_back(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
}

ValueKind value_kind(const OptionDoc& doc) {
  if (!doc.choices.empty()) {
    return ValueKind::kChoices;
  }
  if (doc.metavar == "DIR") {
    return ValueKind::kDir;
  }
  // Free text is nearly always a path here (manifests, keys, bundles, files);
  // where it is not, offering file names is what bash does anyway.
  if (doc.metavar == "TEXT" || doc.metavar == "FILE" || doc.metavar == "PATH") {
    return ValueKind::kFile;
  }
  return ValueKind::kNone;  // numbers, sizes, durations
}

OptionDoc describe_option(const CLI::Option& opt, bool is_help) {
  OptionDoc doc;
  if (opt.nonpositional()) {
    for (const std::string& s : opt.get_snames()) {
      doc.names.push_back("-" + s);
    }
    for (const std::string& l : opt.get_lnames()) {
      doc.names.push_back("--" + l);
    }
  } else {
    doc.positional = opt.get_name(true);
  }
  if (opt.get_items_expected_max() != 0) {
    split_type_name(opt.get_type_name(), doc);
    if (doc.metavar.empty()) {
      doc.metavar = "VALUE";
    }
  }
  doc.description = opt.get_description();
  doc.default_value = opt.get_default_str();
  doc.required = opt.get_required();
  doc.repeatable = opt.get_expected_max() > 1;
  doc.value_kind = doc.is_flag() ? ValueKind::kNone : value_kind(doc);
  doc.is_help = is_help;
  return doc;
}

CommandDoc describe_command(const CLI::App& app, const std::string& program, std::vector<std::string> path) {
  CommandDoc doc;
  doc.program = program;
  doc.path = std::move(path);
  doc.description = app.get_description();
  doc.footer = app.get_footer();
  doc.requires_subcommand = app.get_require_subcommand_min() > 0;
  doc.fallthrough = app.get_fallthrough();
  const CLI::Option* help = app.get_help_ptr();
  const CLI::Option* version = app.get_version_ptr();
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) {
      continue;  // hidden
    }
    OptionDoc o = describe_option(*opt, opt == help || opt == version);
    (o.positional.empty() ? doc.options : doc.positionals).push_back(std::move(o));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_disabled(); })) {
    std::vector<std::string> sub_path = doc.path;
    sub_path.push_back(sub->get_name());
    doc.subcommands.push_back(describe_command(*sub, program, std::move(sub_path)));
  }
  return doc;
}

void flatten_into(const CommandDoc& c, std::vector<const CommandDoc*>& out) {
  out.push_back(&c);
  for (const CommandDoc& s : c.subcommands) {
    flatten_into(s, out);
  }
}

}  // namespace

std::string CommandDoc::path_string() const {
  std::string out;
  for (const std::string& p : path) {
    out += out.empty() ? p : " " + p;
  }
  return out;
}

CommandDoc describe(const CLI::App& app) { return describe_command(app, app.get_name(), {}); }

std::vector<const CommandDoc*> flatten(const CommandDoc& root) {
  std::vector<const CommandDoc*> out;
  flatten_into(root, out);
  return out;
}

}  // namespace airlock::gendocs
