#include "bundler/plan.h"

#include <fnmatch.h>
#include <set>
#include <string>

#include "core/fs/tree.h"

namespace airlock::bundler {

bool glob_match(std::string_view pattern, std::string_view path) {
  std::string p(pattern);
  std::string s(path);
  if (::fnmatch(p.c_str(), s.c_str(), 0) == 0) {
    return true;
  }
  // A pattern without '/' also matches the file name alone ("*.json").
  if (p.find('/') == std::string::npos) {
    auto slash = s.rfind('/');
    if (slash != std::string::npos) {
      return ::fnmatch(p.c_str(), s.c_str() + slash + 1, 0) == 0;
    }
  }
  return false;
}

namespace {

bool selected(const manifest::ModelSpec& model, const std::string& rel) {
  bool included = model.include.empty();
  for (const std::string& g : model.include) {
    included = included || glob_match(g, rel);
  }
  for (const std::string& g : model.exclude) {
    if (glob_match(g, rel)) {
      return false;
    }
  }
  return included;
}

}  // namespace

Result<std::vector<format::InputFile>> plan_inputs(const manifest::Manifest& m) {
  std::vector<format::InputFile> out;
  std::set<std::string> paths;
  auto add = [&](const fs::SourceFile& f, std::string path) -> Status {
    if (!paths.insert(path).second) {
      return make_error(ErrorCode::kInvalidArgument, "{}: two sources ship to the same path '{}'", m.path.string(), path);
    }
    out.push_back(format::InputFile{f.source, std::move(path), f.mode, f.size});
    return ok_status();
  };
  if (m.model) {
    auto files = fs::list_source_tree(m.model->source);
    if (!files) {
      return std::unexpected(Error(files.error()).with_context(fmt::format("{}: [model]", m.path.string())));
    }
    std::size_t kept = 0;
    for (const fs::SourceFile& f : *files) {
      if (selected(*m.model, f.rel_path)) {
        TRY(add(f, "model/" + f.rel_path));
        ++kept;
      }
    }
    if (kept == 0) {
      return make_error(ErrorCode::kInvalidArgument, "{}: [model] no file in {} matches the include/exclude globs",
                        m.path.string(), m.model->source);
    }
  }
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const manifest::FilesSpec& spec = m.files[i];
    auto files = fs::list_source_tree(spec.source);
    if (!files) {
      return std::unexpected(Error(files.error()).with_context(fmt::format("{}: [[files]] #{}", m.path.string(), i + 1)));
    }
    std::error_code ec;
    bool is_dir = std::filesystem::is_directory(spec.source, ec);
    for (const fs::SourceFile& f : *files) {
      TRY(add(f, is_dir ? spec.dest + "/" + f.rel_path : spec.dest));
    }
  }
  // A path may not be both a file and a directory.
  for (const std::string& p : paths) {
    auto it = paths.lower_bound(p + "/");
    if (it != paths.end() && it->starts_with(p + "/")) {
      return make_error(ErrorCode::kInvalidArgument, "{}: '{}' would be both a file and a directory", m.path.string(), p);
    }
  }
  return out;
}

}  // namespace airlock::bundler
