// airlock-gen-docs: writes the man pages and bash completion scripts from the
// programs' own command-line definitions (bundler::build_app and
// installer::build_app, the CLI11 trees that print --help) and the Markdown
// kept next to them, so none of them can drift. Run by the build; not
// installed.
//
//   airlock-gen-docs --out DIR --version X --bundler-manual MD --installer-manual MD --manifest MD
//
// Writes DIR/airlock-bundler.1, DIR/airlock-installer.1,
// DIR/airlock-manifest.5 (from the --manifest Markdown) and
// DIR/completions/airlock-bundler, DIR/completions/airlock-installer.

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include <fmt/core.h>

#include "bundler/app.h"
#include "core/fs/file.h"
#include "installer/app.h"
#include "tools/gen_docs/bash_completion.h"
#include "tools/gen_docs/cli_tree.h"
#include "tools/gen_docs/man_page.h"
#include "tools/gen_docs/markdown_roff.h"

namespace {

namespace stdfs = std::filesystem;
using airlock::Result;
using airlock::Status;

constexpr std::size_t k_max_markdown = 1 << 20;
constexpr const char* k_usage =
    "usage: airlock-gen-docs --out DIR --version X --bundler-manual MD --installer-manual MD --manifest MD\n";

struct Args {
  std::string out;
  std::string version;
  std::string bundler_manual;
  std::string installer_manual;
  std::string manifest;
};

Status write_file(const stdfs::path& path, const std::string& text) {
  std::error_code ec;
  stdfs::create_directories(path.parent_path(), ec);
  return airlock::fs::write_file_atomic(path, airlock::as_bytes(text));
}

Status program_docs(const CLI::App& app, const Args& a, const stdfs::path& manual) {
  const stdfs::path out = a.out;
  const airlock::gendocs::CommandDoc doc = airlock::gendocs::describe(app);
  ASSIGN_OR_RETURN(std::string md, airlock::fs::read_text_file(manual, k_max_markdown));
  ASSIGN_OR_RETURN(std::string page,
                   airlock::gendocs::render_man_page(doc, "airlock " + a.version, md, manual.filename().string()));
  TRY(write_file(out / (doc.program + ".1"), page));
  ASSIGN_OR_RETURN(std::string completion, airlock::gendocs::render_bash_completion(doc));
  return write_file(out / "completions" / doc.program, completion);
}

Status generate(const Args& a) {
  {
    airlock::os::PosixProcessRunner processes;  // never used: no command runs here
    const airlock::os::SystemClock clock;
    airlock::bundler::Context ctx(processes, clock);
    CLI::App app;
    airlock::bundler::build_app(app, ctx);
    TRY(program_docs(app, a, a.bundler_manual));
  }
  {
    airlock::installer::SystemOs real_os;  // never used: no command runs here
    airlock::installer::Context ctx(real_os.os());
    CLI::App app;
    airlock::installer::build_app(app, ctx);
    TRY(program_docs(app, a, a.installer_manual));
  }
  ASSIGN_OR_RETURN(std::string md, airlock::fs::read_text_file(a.manifest, k_max_markdown));
  ASSIGN_OR_RETURN(std::string page, airlock::gendocs::markdown_man_page(
                                          md, stdfs::path(a.manifest).filename().string(), "airlock " + a.version));
  return write_file(stdfs::path(a.out) / "airlock-manifest.5", page);
}

}  // namespace

int main(int argc, char** argv) {
  // Five required "--key value" pairs; no CLI11 here (the build calls this,
  // never a person).
  Args a;
  const std::map<std::string, std::string*> keys = {{"--out", &a.out},
                                                     {"--version", &a.version},
                                                     {"--bundler-manual", &a.bundler_manual},
                                                     {"--installer-manual", &a.installer_manual},
                                                     {"--manifest", &a.manifest}};
  for (int i = 1; i < argc; i += 2) {
    auto it = keys.find(argv[i]);
    if (it == keys.end() || i + 1 == argc) {
      fmt::print(stderr, "{}", k_usage);
      return 2;
    }
    *it->second = argv[i + 1];
  }
  for (const auto& [key, value] : keys) {
    if (value->empty()) {
      fmt::print(stderr, "airlock-gen-docs: {} is required\n{}", key, k_usage);
      return 2;
    }
  }
  if (Status st = generate(a); !st) {
    fmt::print(stderr, "airlock-gen-docs: error: {}\n", st.error().message());
    return 1;
  }
  return 0;
}
