#include "core/format/media_files.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/base/interrupt.h"
#include "core/crypto/sha256.h"
#include "core/format/bundle_reader.h"
#include "core/fs/file.h"

namespace airlock::format {

namespace stdfs = std::filesystem;

std::string fold_medium_name(std::string_view name) {
  if (auto semi = name.rfind(';'); semi != std::string_view::npos &&
      std::all_of(name.begin() + static_cast<std::ptrdiff_t>(semi) + 1, name.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    name = name.substr(0, semi);
  }
  std::string out;
  bool gap = false;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      if (gap && !out.empty()) {
        out += '_';
      }
      gap = false;
      out += c;
    } else {
      gap = true;
    }
  }
  return out;
}

bool iso9660_name(std::string_view name) {
  if (auto semi = name.rfind(';'); semi != std::string_view::npos) {
    name = name.substr(0, semi);
  }
  int dots = 0;
  for (char c : name) {
    if (c == '.') {
      ++dots;
    } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return !name.empty() && dots <= 1;
}

namespace {

// Regular files of dir with ISO 9660 names (no links followed, none listed), by name.
std::vector<std::string> regular_files(const stdfs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    std::error_code tec;
    const std::string name = e.path().filename().string();
    if (e.symlink_status(tec).type() == stdfs::file_type::regular && iso9660_name(name)) {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The pack named by a volume's first tar entry ("packs/000012.pack"), or "".
std::string first_entry_name(const stdfs::path& path) {
  auto file = fs::File::open_regular(path, fs::File::Symlinks::kRefuse);
  if (!file) {
    return {};
  }
  std::uint8_t head[512];
  if (!file->pread_exact(head, 0) || std::memcmp(head + 257, "ustar", 5) != 0) {
    return {};
  }
  const char* name = reinterpret_cast<const char*>(head);
  return std::string(name, strnlen(name, 100));
}

Result<std::string> file_sha256(const stdfs::path& path, std::uint64_t size) {
  ASSIGN_OR_RETURN(fs::File file, fs::File::open_regular(path, fs::File::Symlinks::kRefuse));
  crypto::Sha256 hash;
  Bytes buffer(1 << 20);
  std::uint64_t read = 0;
  while (read < size) {
    TRY(check_interrupt());
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size - read, buffer.size()));
    ASSIGN_OR_RETURN(std::size_t n, file.read_some(std::span<std::uint8_t>(buffer.data(), want)));
    if (n == 0) {
      break;
    }
    hash.update(ByteSpan(buffer.data(), n));
    read += n;
  }
  return to_hex(hash.finish());
}

}  // namespace

std::string find_entry_folded(const stdfs::path& dir, const std::string& name) {
  std::error_code ec;
  if (stdfs::exists(stdfs::symlink_status(dir / name, ec))) {
    return name;
  }
  const std::string want = fold_medium_name(name);
  std::string found;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    const std::string got = e.path().filename().string();
    if (iso9660_name(got) && fold_medium_name(got) == want) {
      if (!found.empty()) {
        return {};  // two candidates: neither is taken on its name
      }
      found = got;
    }
  }
  return found;
}

Result<std::vector<std::string>> find_renamed_volumes(OpenedIndex& opened, const Payload* payload) {
  const auto& vols = opened.header.volumes;
  std::vector<std::string> notes;
  std::error_code ec;
  std::vector<std::size_t> missing;
  for (std::size_t v = 0; v < vols.size(); ++v) {
    bool present = false;
    for (const stdfs::path& d : opened.all_dirs()) {
      present = present || stdfs::exists(stdfs::symlink_status(d / vols[v].name, ec));
    }
    if (!present && !opened.renamed.contains(v)) {
      missing.push_back(v);
    }
  }
  if (missing.empty()) {
    return notes;
  }
  // Files of each directory not already a volume under its own name, nor the
  // index or the label.
  std::set<std::string> own_names;
  for (const VolumeInfo& v : vols) {
    own_names.insert(v.name);
  }
  std::set<stdfs::path> taken;
  for (const auto& [v, path] : opened.renamed) {
    taken.insert(path);
  }
  auto note = [&](std::size_t v, const stdfs::path& path, const char* how) {
    opened.renamed[v] = path;
    taken.insert(path);
    notes.push_back(fmt::format("{} is {} ({}; the medium's file system renamed it)", path.string(),
                                opened.describe_volume(v), how));
  };
  // 1. By folded name.
  std::vector<std::size_t> left;
  for (std::size_t v : missing) {
    const std::string want = fold_medium_name(vols[v].name);
    std::vector<stdfs::path> hits;
    for (const stdfs::path& d : opened.all_dirs()) {
      for (const std::string& f : regular_files(d)) {
        if (!own_names.contains(f) && fold_medium_name(f) == want && !taken.contains(d / f)) {
          hits.push_back(d / f);
        }
      }
    }
    if (hits.size() == 1) {
      note(v, hits.front(), "same name but for case and punctuation");
    } else {
      left.push_back(v);
    }
  }
  if (left.empty()) {
    return notes;
  }
  // 2. By content, among files of a left volume's exact size.
  std::map<std::string, std::size_t> pack_volume;
  if (payload) {
    for (const PackEntry& p : payload->packs) {
      pack_volume.emplace(p.name, p.volume);
    }
  }
  std::set<std::size_t> wanted(left.begin(), left.end());
  for (const stdfs::path& d : opened.all_dirs()) {
    for (const std::string& f : regular_files(d)) {
      const stdfs::path path = d / f;
      if (wanted.empty()) {
        return notes;
      }
      if (own_names.contains(f) || taken.contains(path) || path == opened.index_path) {
        continue;
      }
      const std::uint64_t size = stdfs::file_size(path, ec);
      if (ec) {
        continue;
      }
      std::vector<std::size_t> by_size;
      for (std::size_t v : wanted) {
        if (vols[v].size == size) {
          by_size.push_back(v);
        }
      }
      if (by_size.empty()) {
        continue;
      }
      if (payload) {
        auto it = pack_volume.find(first_entry_name(path));
        if (it != pack_volume.end() && wanted.contains(it->second) && vols[it->second].size == size) {
          note(it->second, path, "told by the first pack it holds");
          wanted.erase(it->second);
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::string sha, file_sha256(path, size));
      for (std::size_t v : by_size) {
        if (vols[v].sha256 == sha) {
          note(v, path, "told by its size and SHA-256");
          wanted.erase(v);
          break;
        }
      }
    }
  }
  return notes;
}

}  // namespace airlock::format
