#include "core/archive/tar.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "core/base/text.h"

namespace airlock::archive::tar {

namespace {

// ustar header fields: offset and width (POSIX.1-2001, "ustar Interchange Format").
struct Field {
  std::size_t at;
  std::size_t width;
};
constexpr Field k_name{0, 100};
constexpr Field k_mode{100, 8};
constexpr Field k_uid{108, 8};
constexpr Field k_gid{116, 8};
constexpr Field k_size{124, 12};
constexpr Field k_mtime{136, 12};
constexpr Field k_chksum{148, 8};
constexpr std::size_t k_typeflag = 156;
constexpr Field k_linkname{157, 100};
constexpr Field k_magic{257, 6};
constexpr Field k_version{263, 2};
constexpr Field k_devmajor{329, 8};
constexpr Field k_devminor{337, 8};
constexpr Field k_prefix{345, 155};

constexpr std::uint64_t k_octal11 = std::uint64_t{1} << 33;  // 8^11: the first size 11 digits cannot hold
constexpr std::uint64_t k_octal12 = std::uint64_t{1} << 36;  // 8^12
constexpr std::uint64_t k_max_size = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
constexpr std::size_t k_ustar_name_max = 100;
constexpr std::size_t k_pax_base_max = 88;  // libarchive's limit on the file name in a pax header's name

using Block = std::array<std::uint8_t, k_block_size>;

std::uint64_t padding_of(std::uint64_t size) { return (k_block_size - size % k_block_size) % k_block_size; }

// ---- writing

void put_octal(Block& h, std::size_t at, std::size_t digits, std::uint64_t v) {
  for (std::size_t i = digits; i > 0; --i) {
    h[at + i - 1] = static_cast<std::uint8_t>('0' + (v & 7));
    v >>= 3;
  }
}

// "000000 \0": six digits, a space, a NUL (how libarchive fills mode, uid,
// gid, devmajor and devminor).
void put_small(Block& h, Field f, std::uint64_t v) {
  put_octal(h, f.at, 6, v);
  h[f.at + 6] = ' ';
  h[f.at + 7] = 0;
}

void put_size(Block& h, std::uint64_t size) {
  if (size < k_octal11) {
    put_octal(h, k_size.at, 11, size);
    h[k_size.at + 11] = ' ';
  } else if (size < k_octal12) {
    put_octal(h, k_size.at, 12, size);  // all twelve digits, no terminator
  } else {
    // Base-256, as libarchive and GNU tar write it; only ever beside a pax
    // "size" record, which is what a reader (ours included) uses.
    for (std::size_t i = k_size.width; i > 1; --i) {
      h[k_size.at + i - 1] = static_cast<std::uint8_t>(size & 0xff);
      size >>= 8;
    }
    h[k_size.at] = 0x80;
  }
}

Block make_header(std::string_view name, std::uint64_t size, char typeflag) {
  Block h{};
  std::memcpy(h.data() + k_name.at, name.data(), std::min(name.size(), k_name.width));
  put_small(h, k_mode, 0644);
  put_small(h, k_uid, 0);
  put_small(h, k_gid, 0);
  put_size(h, size);
  put_octal(h, k_mtime.at, 11, 0);
  h[k_mtime.at + 11] = ' ';
  h[k_typeflag] = static_cast<std::uint8_t>(typeflag);
  std::memcpy(h.data() + k_magic.at, "ustar", 6);
  std::memcpy(h.data() + k_version.at, "00", 2);
  put_small(h, k_devmajor, 0);
  put_small(h, k_devminor, 0);
  std::fill_n(h.data() + k_chksum.at, k_chksum.width, std::uint8_t{' '});
  std::uint32_t sum = 0;
  for (std::uint8_t b : h) {
    sum += b;
  }
  put_octal(h, k_chksum.at, 6, sum);
  h[k_chksum.at + 6] = 0;
  h[k_chksum.at + 7] = ' ';
  return h;
}

// "LEN key=value\n", LEN counting itself.
std::string pax_record(std::string_view key, std::string_view value) {
  const std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t len = body + std::to_string(body).size();
  if (std::to_string(len).size() != std::to_string(body).size()) {
    ++len;
  }
  return fmt::format("{} {}={}\n", len, key, value);
}

// The name of a pax header's own ustar header: DIR/PaxHeader/BASE, as
// libarchive writes it, or PaxHeader/BASE when that does not fit in 100 bytes.
std::string pax_header_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::string_view short_base = base.substr(0, k_pax_base_max);
  if (slash != std::string_view::npos) {
    std::string name = fmt::format("{}/PaxHeader/{}", path.substr(0, slash), short_base);
    if (name.size() <= k_ustar_name_max) {
      return name;
    }
  }
  return fmt::format("PaxHeader/{}", short_base);
}

// ---- reading

std::string_view field_text(const Block& h, Field f) {
  const char* p = reinterpret_cast<const char*>(h.data() + f.at);
  return std::string_view(p, strnlen(p, f.width));
}

bool all_zero(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

// Plain octal: one or more digits from the first byte, then only spaces or
// NULs to the end of the field (or digits to the very end). An all-NUL field
// is 0 only where `empty_ok`. No leading spaces, no base-256, no signs.
std::optional<std::uint64_t> parse_octal(const Block& h, Field f, bool empty_ok) {
  const std::uint8_t* p = h.data() + f.at;
  std::size_t i = 0;
  std::uint64_t v = 0;
  while (i < f.width && p[i] >= '0' && p[i] <= '7') {
    v = (v << 3) | static_cast<std::uint64_t>(p[i] - '0');
    ++i;
  }
  if (i == 0 && !(empty_ok && all_zero(std::span(p, f.width)))) {
    return std::nullopt;
  }
  for (; i < f.width; ++i) {
    if (p[i] != ' ' && p[i] != 0) {
      return std::nullopt;
    }
  }
  return v;
}

// What a typeflag other than '0', '\0' and 'x' stands for, in an error.
std::string_view kind_of(std::uint8_t typeflag) {
  switch (typeflag) {
    case '1': return "a hard link";
    case '2': return "a symbolic link";
    case '3': return "a character device";
    case '4': return "a block device";
    case '5': return "a directory";
    case '6': return "a FIFO";
    case '7': return "a contiguous file";
    case 'g': return "a pax global header";
    case 'L': return "a GNU long name";
    case 'K': return "a GNU long link name";
    case 'S': return "a GNU sparse file";
    case 'D': return "a GNU directory dump";
    case 'M': return "a GNU multi-volume continuation";
    case 'N': return "a GNU old long name";
    case 'V': return "a GNU volume label";
    default: return "an entry of unknown type";
  }
}

struct Pax {
  std::optional<std::string> path;
  std::optional<std::uint64_t> size;
};

// Parses pax records ("LEN key=value\n" each, LEN decimal without leading
// zeros and counting the whole record). Only "path" and "size", each at
// most once, are accepted: the keys Airlock's writer and libarchive's pax
// writer use for the entries Airlock writes.
Status parse_pax(std::string_view data, Pax& out, std::string_view where) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kCorruption, "{} is a malformed pax header ({})", where, why);
  };
  if (data.empty()) {
    return bad("no records");
  }
  while (!data.empty()) {
    std::size_t digits = 0;
    std::size_t len = 0;
    while (digits < data.size() && digits < 6 && data[digits] >= '0' && data[digits] <= '9') {
      len = len * 10 + static_cast<std::size_t>(data[digits] - '0');
      ++digits;
    }
    if (digits == 0 || data[0] == '0' || digits >= data.size() || data[digits] != ' ') {
      return bad("a record does not start with its length and a space");
    }
    if (len < digits + 4 || len > data.size()) {
      return bad(fmt::format("a record's length {} does not fit what is left", len));
    }
    if (data[len - 1] != '\n') {
      return bad("a record does not end with a newline");
    }
    const std::string_view body = data.substr(digits + 1, len - digits - 2);
    data.remove_prefix(len);
    const std::size_t eq = body.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return bad("a record without key=value");
    }
    const std::string_view key = body.substr(0, eq);
    const std::string_view value = body.substr(eq + 1);
    if (key == "path") {
      if (out.path) {
        return bad("'path' twice");
      }
      if (value.empty() || value.size() > k_max_path || value.find('\0') != std::string_view::npos) {
        return bad("'path' is empty, too long or holds a NUL");
      }
      out.path = std::string(value);
    } else if (key == "size") {
      if (out.size) {
        return bad("'size' twice");
      }
      std::uint64_t v = 0;
      const bool digits_only = !value.empty() && value.size() <= 19 &&
                               std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits_only || (value.size() > 1 && value[0] == '0')) {
        return bad("'size' is not a plain decimal number");
      }
      for (char c : value) {
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (v > k_max_size) {
        return bad("'size' is out of range");
      }
      out.size = v;
    } else {
      return make_error(ErrorCode::kCorruption, "{} is a pax header with key '{}', which is not one Airlock writes (only path and size)",
                        where, text::escape_untrusted(key));
    }
  }
  return ok_status();
}

}  // namespace

// ---- Writer

Bytes header_bytes(std::string_view name, std::uint64_t size) {
  std::string records;
  if (name.size() > k_ustar_name_max) {
    records += pax_record("path", name);
  }
  if (size >= k_octal11) {
    records += pax_record("size", std::to_string(size));
  }
  Bytes out;
  if (!records.empty()) {
    const Block x = make_header(pax_header_name(name), records.size(), 'x');
    out.insert(out.end(), x.begin(), x.end());
    append(out, as_bytes(records));
    out.resize(out.size() + padding_of(records.size()), 0);
  }
  // A path too long for ustar is in the pax record; the ustar field gets its
  // last component (cut to fit) for readers that ignore pax headers.
  std::string_view ustar_name = name;
  if (name.size() > k_ustar_name_max) {
    const std::size_t slash = name.rfind('/');
    ustar_name = (slash == std::string_view::npos ? name : name.substr(slash + 1)).substr(0, k_ustar_name_max - 1);
  }
  const Block h = make_header(ustar_name, size, '0');
  out.insert(out.end(), h.begin(), h.end());
  return out;
}

Status Writer::emit(ByteSpan data) {
  if (data.empty()) {
    return ok_status();
  }
  Status st = m_sink(data);
  if (!st) {
    m_finished = true;  // a failed sink ends the archive: nothing more is written
    return st;
  }
  m_bytes += data.size();
  return ok_status();
}

Status Writer::begin_entry(std::string_view name, std::uint64_t size) {
  if (m_finished || m_in_entry) {
    return make_error(ErrorCode::kInvalidArgument, "tar: entry '{}' started {}", text::escape_untrusted(name),
                      m_finished ? "after the end of the archive" : "before the previous one is complete");
  }
  if (name.empty() || name.size() > k_max_path || name.back() == '/' || name.find('\0') != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "tar: '{}' is not a name a tar entry can have",
                      text::escape_untrusted(name));
  }
  if (size > k_max_size) {
    return make_error(ErrorCode::kInvalidArgument, "tar: {}: {} bytes is too large", text::escape_untrusted(name),
                      size);
  }
  TRY(emit(header_bytes(name, size)));
  m_in_entry = true;
  m_left = size;
  m_padding = padding_of(size);
  return ok_status();
}

Status Writer::write(ByteSpan data) {
  if (!m_in_entry || data.size() > m_left) {
    return make_error(ErrorCode::kInvalidArgument, "tar: {} bytes of data {}", data.size(),
                      m_in_entry ? "past the end of the entry" : "outside an entry");
  }
  TRY(emit(data));
  m_left -= data.size();
  return ok_status();
}

Status Writer::end_entry() {
  if (!m_in_entry || m_left != 0) {
    return make_error(ErrorCode::kInvalidArgument, "tar: entry ended {} ({} bytes missing)",
                      m_in_entry ? "early" : "twice", m_left);
  }
  static constexpr Block k_zero{};
  TRY(emit(ByteSpan(k_zero.data(), static_cast<std::size_t>(m_padding))));
  m_in_entry = false;
  return ok_status();
}

Status Writer::add_entry(std::string_view name, ByteSpan data) {
  TRY(begin_entry(name, data.size()));
  TRY(write(data));
  return end_entry();
}

Status Writer::finish() {
  if (m_finished || m_in_entry) {
    return make_error(ErrorCode::kInvalidArgument, "tar: archive finished {}",
                      m_finished ? "twice (or after a write failed)" : "inside an entry");
  }
  static constexpr std::array<std::uint8_t, 2 * k_block_size> k_marker{};
  TRY(emit(k_marker));
  m_finished = true;
  return ok_status();
}

// ---- Reader

std::string Reader::where() const { return fmt::format("{}: entry '{}'", m_volume, m_entry); }

Status Reader::read_exact(std::span<std::uint8_t> out, std::string_view what) {
  std::size_t done = 0;
  while (done < out.size()) {
    ASSIGN_OR_RETURN(std::size_t n, m_source(out.subspan(done)));
    if (n == 0) {
      return make_error(ErrorCode::kCorruption, "{}: truncated at byte {} (in {}); re-copy this volume", m_volume,
                        m_consumed, what);
    }
    done += n;
    m_consumed += n;
  }
  return ok_status();
}

Status Reader::skip(std::uint64_t n, std::string_view what) {
  std::array<std::uint8_t, 64 * 1024> scratch;
  while (n > 0) {
    const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(n, scratch.size()));
    TRY(read_exact(std::span(scratch.data(), step), what));
    n -= step;
  }
  return ok_status();
}

// Padding: skipped, or when canonical read and required to be zeros.
Status Reader::read_padding(std::uint64_t n, std::string_view what) {
  if (!m_canonical) {
    return skip(n, what);
  }
  Block pad{};
  TRY(read_exact(std::span(pad.data(), static_cast<std::size_t>(n)), what));
  if (!all_zero(std::span(pad.data(), static_cast<std::size_t>(n)))) {
    return make_error(ErrorCode::kCorruption, "{} is followed by padding that is not zeros (altered); re-copy this volume",
                      where());
  }
  return ok_status();
}

Status Reader::read(std::span<std::uint8_t> out) {
  if (out.size() > m_data_left) {
    return make_error(ErrorCode::kCorruption, "{0} has {2} bytes left, {1} were asked for", where(), out.size(),
                      m_data_left);
  }
  TRY(read_exact(out, "entry data"));
  m_data_left -= out.size();
  return ok_status();
}

Result<std::optional<Entry>> Reader::next() {
  if (m_at_end) {
    return std::optional<Entry>();
  }
  if (m_canonical && m_data_left != 0) {
    return make_error(ErrorCode::kCorruption, "{}: {} bytes of its data were not read", where(), m_data_left);
  }
  TRY(skip(m_data_left, "entry data"));
  TRY(read_padding(m_padding, "entry data"));
  m_data_left = 0;
  m_padding = 0;
  m_raw.clear();
  Pax pax;
  std::string pax_where;  // set while a pax header waits for its entry
  Block h;
  for (;;) {
    const std::uint64_t at = m_consumed;
    const std::uint64_t left = m_total - m_consumed;
    if (left < k_block_size) {
      if (!pax_where.empty()) {
        return make_error(ErrorCode::kCorruption, "{} is a pax header with no entry after it: the volume ends", pax_where);
      }
      if (left == 0) {
        return make_error(ErrorCode::kCorruption,
                          "{}: ends without the end-of-archive marker (truncated?); re-copy this volume", m_volume);
      }
      return make_error(ErrorCode::kCorruption, "{}: truncated tar header at byte {}; re-copy this volume", m_volume,
                        at);
    }
    TRY(read_exact(h, "a tar header"));
    if (m_canonical) {
      m_raw.insert(m_raw.end(), h.begin(), h.end());
    }
    if (all_zero(h)) {
      if (!pax_where.empty()) {
        return make_error(ErrorCode::kCorruption, "{} is a pax header followed by the end of the archive, not by an entry",
                          pax_where);
      }
      if (m_total - m_consumed < k_block_size) {
        return make_error(ErrorCode::kCorruption,
                          "{}: one zero block at byte {} and then the end; the end-of-archive marker is two; "
                          "re-copy this volume",
                          m_volume, at);
      }
      TRY(read_exact(h, "the end-of-archive marker"));
      if (!all_zero(h)) {
        return make_error(ErrorCode::kCorruption,
                          "{}: a lone zero block at byte {} (not an end-of-archive marker); re-copy this volume",
                          m_volume, at);
      }
      m_at_end = true;
      return std::optional<Entry>();
    }

    // Names for errors before anything else: what the header says it is.
    const std::string_view raw_name = field_text(h, k_name);
    const std::string_view raw_prefix = field_text(h, k_prefix);
    m_entry = text::escape_untrusted(raw_prefix.empty() ? std::string(raw_name)
                                                        : fmt::format("{}/{}", raw_prefix, raw_name));
    if (pax.path) {
      m_entry = text::escape_untrusted(*pax.path);
    }
    auto refuse = [&](std::string_view why) {
      return make_error(ErrorCode::kCorruption, "{} {} (header at byte {})", where(), why, at);
    };

    const auto stored_sum = parse_octal(h, k_chksum, false);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < h.size(); ++i) {
      sum += (i >= k_chksum.at && i < k_chksum.at + k_chksum.width) ? std::uint8_t{' '} : h[i];
    }
    if (!stored_sum || *stored_sum != sum) {
      return refuse("has a tar header whose checksum does not match (damaged); re-copy this volume");
    }
    if (std::memcmp(h.data() + k_magic.at, "ustar", 6) != 0 || std::memcmp(h.data() + k_version.at, "00", 2) != 0) {
      return refuse(std::memcmp(h.data() + k_magic.at, "ustar ", 6) == 0
                        ? "has a GNU tar header, not POSIX ustar (Airlock writes ustar \"00\" only)"
                        : "has no POSIX ustar header (magic and version are not \"ustar\\0\" \"00\")");
    }
    for (Field f : {k_mode, k_uid, k_gid, k_mtime}) {
      if (!parse_octal(h, f, false)) {
        return refuse(fmt::format("has a numeric field at header offset {} that is not plain octal (base-256 or garbage)", f.at));
      }
    }
    for (Field f : {k_devmajor, k_devminor}) {
      if (!parse_octal(h, f, true)) {
        return refuse(fmt::format("has a numeric field at header offset {} that is not plain octal (base-256 or garbage)", f.at));
      }
    }
    const std::uint8_t type = h[k_typeflag];
    if (type != '0' && type != 0 && type != 'x') {
      return refuse(fmt::format("is {} (typeflag '{}'); an Airlock volume holds only regular files",
                                kind_of(type), text::escape_untrusted(std::string(1, static_cast<char>(type)))));
    }
    if (!raw_prefix.empty()) {
      return refuse("uses the ustar prefix field, which Airlock does not write");
    }
    if (!all_zero(std::span(h.data() + k_linkname.at, k_linkname.width))) {
      return refuse("has a link name, which a regular file cannot have");
    }

    // The size: plain octal, except that a pax "size" record overrides it
    // (then the ustar field must say the same, in octal or base-256).
    std::optional<std::uint64_t> size = parse_octal(h, k_size, false);
    if (type != 'x' && pax.size) {
      std::optional<std::uint64_t> ustar = size;
      if (!ustar && (h[k_size.at] == 0x80)) {
        std::uint64_t v = 0;
        for (std::size_t i = 1; i < k_size.width; ++i) {
          v = (v << 8) | h[k_size.at + i];
        }
        ustar = v;
      }
      if (!ustar || *ustar != *pax.size) {
        return refuse(fmt::format("has a pax size {} that its ustar size field disagrees with", *pax.size));
      }
      size = pax.size;
    }
    if (!size) {
      return refuse("has a size field that is not plain octal (base-256 or garbage)");
    }
    const std::uint64_t need = *size + padding_of(*size);
    if (*size > k_max_size || need > m_total - m_consumed) {
      return refuse(fmt::format("says {} bytes, but only {} are left in the volume", *size, m_total - m_consumed));
    }

    if (type == 'x') {
      if (!pax_where.empty()) {
        return refuse("is a second pax header in a row");
      }
      if (*size > k_max_pax_header) {
        return refuse(fmt::format("is a pax header of {} bytes (at most {})", *size, k_max_pax_header));
      }
      std::string data(static_cast<std::size_t>(*size), '\0');
      TRY(read_exact(std::span(reinterpret_cast<std::uint8_t*>(data.data()), data.size()), "a pax header"));
      if (m_canonical) {
        append(m_raw, as_bytes(data));
        m_raw.resize(m_raw.size() + padding_of(*size), 0);  // read_padding checks they are zeros
      }
      TRY(read_padding(padding_of(*size), "a pax header"));
      pax_where = where();
      TRY(parse_pax(data, pax, pax_where));
      continue;
    }

    // A regular file. The end-of-archive marker must still fit after it.
    if (need + 2 * k_block_size > m_total - at - k_block_size) {
      return refuse(fmt::format("says {} bytes, which leaves no room for the end-of-archive marker", *size));
    }
    Entry e;
    e.name = pax.path ? *pax.path : std::string(raw_name);
    if (e.name.empty()) {
      return refuse("has an empty name");
    }
    e.size = *size;
    if (m_canonical) {
      // Every header byte is what the writer writes for this name and size:
      // nothing outside entry data is left free to carry anything.
      if (e.name.size() > k_max_path || m_raw != header_bytes(e.name, e.size)) {
        return refuse("has headers that are not byte for byte the ones Airlock writes for it (altered); re-copy "
                      "this volume");
      }
    }
    m_data_left = *size;
    m_padding = padding_of(*size);
    return std::optional<Entry>(std::move(e));
  }
}

}  // namespace airlock::archive::tar
