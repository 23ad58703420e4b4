#include "tools/gen_docs/markdown_roff.h"

#include <cctype>
#include <vector>

#include <fmt/core.h>

#include "tools/gen_docs/roff.h"

namespace airlock::gendocs {

namespace {

constexpr std::size_t k_fill_width = 78;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_punct(char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; }

// A run of `n` backquotes starting at i, closed by the same run.
bool code_span(std::string_view s, std::size_t& i, std::string& out) {
  std::size_t n = 0;
  while (i + n < s.size() && s[i + n] == '`') {
    ++n;
  }
  const std::string fence(n, '`');
  const std::size_t close = s.find(fence, i + n);
  if (close == std::string_view::npos) {
    return false;
  }
  std::string_view code = s.substr(i + n, close - i - n);
  if (n > 1) {
    code = trim(code);  // `` `x` `` holds a backquote
  }
  out += "\\fB" + roff::literal(code) + "\\fP";
  i = close + n;
  return true;
}

// "[text](url)": the text, and an absolute URL after it.
bool link(std::string_view s, std::size_t& i, std::string& out) {
  const std::size_t mid = s.find("](", i);
  if (mid == std::string_view::npos || s.substr(i + 1, mid - i - 1).find('[') != std::string_view::npos) {
    return false;
  }
  const std::size_t close = s.find(')', mid);
  if (close == std::string_view::npos) {
    return false;
  }
  out += inline_roff(s.substr(i + 1, mid - i - 1));
  std::string_view url = s.substr(mid + 2, close - mid - 2);
  if (url.starts_with("https://") || url.starts_with("http://")) {
    out += " <" + roff::literal(url) + ">";
  }
  i = close + 1;
  return true;
}

// "**x**" or "*x*" with no space just inside the markers.
bool emphasis(std::string_view s, std::size_t& i, std::string& out) {
  const bool strong = s.substr(i).starts_with("**");
  const std::size_t n = strong ? 2 : 1;
  const std::size_t start = i + n;
  if (start >= s.size() || s[start] == ' ' || s[start] == '*') {
    return false;
  }
  const std::size_t close = s.find(strong ? "**" : "*", start);
  if (close == std::string_view::npos || close == start || s[close - 1] == ' ') {
    return false;
  }
  out += (strong ? "\\fB" : "\\fI") + inline_roff(s.substr(start, close - start)) + "\\fP";
  i = close + n;
  return true;
}

std::string heading_text(std::string_view text, bool upper) {
  std::string raw(text);
  if (upper) {
    bool in_code = false;
    for (char& c : raw) {
      if (c == '`') {
        in_code = !in_code;
      } else if (!in_code) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
  }
  return roff::quoted(inline_roff(raw));
}

// Splits "| a | b |" on '|' not escaped as "\|"; the escape becomes '|'.
std::vector<std::string> table_cells(std::string_view row) {
  row = trim(row);
  if (row.starts_with('|')) {
    row.remove_prefix(1);
  }
  if (row.ends_with('|') && !row.ends_with("\\|")) {
    row.remove_suffix(1);
  }
  std::vector<std::string> cells(1);
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
      cells.back() += '|';
      ++i;
    } else if (row[i] == '|') {
      cells.emplace_back();
    } else {
      cells.back() += row[i];
    }
  }
  for (std::string& c : cells) {
    c = std::string(trim(c));
  }
  return cells;
}

bool is_table_separator(std::string_view line) {
  line = trim(line);
  if (!line.starts_with('|') || line.find('-') == std::string_view::npos) {
    return false;
  }
  return line.find_first_not_of("|-: ") == std::string_view::npos;
}

// "- " or "12. ": the marker's width, or 0.
std::size_t list_marker(std::string_view line) {
  if (line.starts_with("- ")) {
    return 2;
  }
  std::size_t d = 0;
  while (d < line.size() && std::isdigit(static_cast<unsigned char>(line[d])) != 0) {
    ++d;
  }
  return d > 0 && line.substr(d).starts_with(". ") ? d + 2 : 0;
}

class Renderer {
 public:
  explicit Renderer(std::string_view source_name) : m_source(source_name) {}

  Status render(const std::vector<std::string_view>& lines, std::size_t first_line) {
    std::size_t i = 0;
    while (i < lines.size()) {
      const std::size_t number = first_line + i;
      const std::string_view line = lines[i];
      const std::string_view t = trim(line);
      if (t.empty()) {
        ++i;
      } else if (t.starts_with("```")) {
        TRY(code_block(lines, i, first_line));
      } else if (line.starts_with("## ")) {
        m_out += ".SH " + heading_text(trim(line.substr(3)), true) + "\n";
        ++i;
      } else if (line.starts_with("### ")) {
        m_out += ".SS " + heading_text(trim(line.substr(4)), false) + "\n";
        ++i;
      } else if (line.starts_with('|')) {
        TRY(table(lines, i, first_line));
      } else if (list_marker(line) != 0) {
        list(lines, i);
      } else if (line.starts_with('#') || line.starts_with('>') || line.starts_with('<') ||
                 line.starts_with("* ") || line.starts_with("+ ") || line.starts_with("---") ||
                 line.starts_with("***") || line.starts_with("    ") || line.starts_with('\t')) {
        return make_error(ErrorCode::kInvalidArgument,
                          "{}:{}: '{}' is outside the Markdown subset the man page generator renders "
                          "(tools/gen_docs/markdown_roff.h)",
                          m_source, number, t.substr(0, 20));
      } else {
        paragraph(lines, i);
      }
    }
    return ok_status();
  }

  std::string take() { return std::move(m_out); }

 private:
  static bool ends_block(std::string_view line) {
    const std::string_view t = trim(line);
    return t.empty() || t.starts_with("```") || line.starts_with('#') || line.starts_with('|') ||
           list_marker(line) != 0;
  }

  void paragraph(const std::vector<std::string_view>& lines, std::size_t& i) {
    std::string text;
    while (i < lines.size() && !ends_block(lines[i])) {
      text += (text.empty() ? "" : " ") + std::string(trim(lines[i]));
      ++i;
    }
    m_out += ".PP\n" + fill_lines(inline_roff(text));
  }

  void list(const std::vector<std::string_view>& lines, std::size_t& i) {
    while (i < lines.size()) {
      const std::size_t marker = list_marker(lines[i]);
      if (marker == 0) {
        return;
      }
      const std::string_view tag = lines[i].substr(0, marker - 1);  // "-" or "12."
      std::string text(trim(lines[i].substr(marker)));
      ++i;
      // Continuation: indented, non-blank lines that start no block of their own.
      while (i < lines.size() && (lines[i].starts_with("  ") || lines[i].starts_with('\t')) &&
             !trim(lines[i]).empty() && !trim(lines[i]).starts_with("```")) {
        text += " " + std::string(trim(lines[i]));
        ++i;
      }
      m_out += tag == "-" ? std::string(".IP \\(bu 2\n") : ".IP " + roff::text(tag) + " 4\n";
      m_out += fill_lines(inline_roff(text));
    }
  }

  Status code_block(const std::vector<std::string_view>& lines, std::size_t& i, std::size_t first_line) {
    const std::size_t open = i;
    ++i;
    m_out += ".PP\n.RS 4\n.nf\n";
    while (i < lines.size() && !trim(lines[i]).starts_with("```")) {
      const std::string body = roff::literal(lines[i]);
      m_out += (body.empty() ? std::string("\\&") : roff::line(body)) + "\n";
      ++i;
    }
    if (i == lines.size()) {
      return make_error(ErrorCode::kInvalidArgument, "{}:{}: code block not closed with ```", m_source,
                        first_line + open);
    }
    ++i;
    m_out += ".fi\n.RE\n";
    return ok_status();
  }

  Status table(const std::vector<std::string_view>& lines, std::size_t& i, std::size_t first_line) {
    const std::size_t start = i;
    if (i + 1 >= lines.size() || !is_table_separator(lines[i + 1])) {
      return make_error(ErrorCode::kInvalidArgument, "{}:{}: a table needs a header row and a |---| row",
                        m_source, first_line + start);
    }
    const std::vector<std::string> header = table_cells(lines[i]);
    i += 2;
    m_out += ".PP\n";
    while (i < lines.size() && lines[i].starts_with('|')) {
      std::vector<std::string> cells = table_cells(lines[i]);
      if (cells.size() != header.size()) {
        return make_error(ErrorCode::kInvalidArgument, "{}:{}: table row has {} cells, the header {}", m_source,
                          first_line + i, cells.size(), header.size());
      }
      std::string tag = cells[0];
      std::string middle;
      for (std::size_t c = 1; c + 1 < cells.size(); ++c) {
        if (!cells[c].empty()) {
          middle += (middle.empty() ? "" : "; ") + cells[c];
        }
      }
      if (!middle.empty()) {
        tag += " (" + middle + ")";
      }
      m_out += ".TP\n" + fill_lines(inline_roff(tag)) + fill_lines(inline_roff(cells.back()));
      ++i;
    }
    return ok_status();
  }

  std::string m_source;
  std::string m_out;
};

}  // namespace

std::string inline_roff(std::string_view s) {
  std::string out;
  std::size_t plain = 0;  // start of the text not yet written
  std::size_t i = 0;
  auto flush = [&](std::size_t end) {
    out += roff::text(s.substr(plain, end - plain));
  };
  while (i < s.size()) {
    const char c = s[i];
    std::size_t at = i;
    std::string markup;
    bool matched = false;
    if (c == '\\' && i + 1 < s.size() && is_punct(s[i + 1])) {
      markup = roff::text(s.substr(i + 1, 1));
      i += 2;
      matched = true;
    } else if (c == '`') {
      matched = code_span(s, i, markup);
    } else if (c == '[') {
      matched = link(s, i, markup);
    } else if (c == '*') {
      matched = emphasis(s, i, markup);
    }
    if (matched) {
      flush(at);
      out += markup;
      plain = i;
    } else {
      ++i;
    }
  }
  flush(s.size());
  return out;
}

std::string fill_lines(std::string_view escaped) {
  std::string out;
  std::string line;
  std::size_t i = 0;
  while (i < escaped.size()) {
    std::size_t end = escaped.find(' ', i);
    if (end == std::string_view::npos) {
      end = escaped.size();
    }
    std::string_view word = escaped.substr(i, end - i);
    i = end + 1;
    if (word.empty()) {
      continue;
    }
    // Never end an input line with "e.g." and the like: groff would take the
    // '.' for the end of a sentence.
    const bool may_break = !line.empty() && line.back() != '.' && line.back() != '?' && line.back() != '!';
    if (may_break && line.size() + 1 + word.size() > k_fill_width) {
      out += roff::line(line) + "\n";
      line.clear();
    }
    line += line.empty() ? std::string(word) : " " + std::string(word);
  }
  if (!line.empty()) {
    out += roff::line(line) + "\n";
  }
  return out;
}

namespace {

Result<std::string> render_body(std::string_view markdown, std::string_view source_name, std::size_t first_line) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < markdown.size()) {
    std::size_t end = markdown.find('\n', start);
    if (end == std::string_view::npos) {
      end = markdown.size();
    }
    lines.push_back(markdown.substr(start, end - start));
    start = end + 1;
  }
  Renderer r(source_name);
  TRY(r.render(lines, first_line));
  return r.take();
}

}  // namespace

Result<std::string> markdown_to_roff(std::string_view markdown, std::string_view source_name) {
  return render_body(markdown, source_name, 1);
}

Result<std::string> markdown_man_page(std::string_view markdown, std::string_view source_name,
                                      std::string_view source) {
  const std::size_t eol = markdown.find('\n');
  const std::string_view title = markdown.substr(0, eol);
  // "# NAME(SECTION): summary"
  const std::size_t open = title.find('(');
  const std::size_t close = title.find("): ");
  if (!title.starts_with("# ") || open == std::string_view::npos || close == std::string_view::npos ||
      close < open || open <= 2) {
    return make_error(ErrorCode::kInvalidArgument, "{}:1: the first line must be '# NAME(SECTION): summary'",
                      source_name);
  }
  const std::string name(title.substr(2, open - 2));
  const std::string section(title.substr(open + 1, close - open - 1));
  const std::string_view summary = trim(title.substr(close + 3));
  std::string upper = name;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  ASSIGN_OR_RETURN(std::string body,
                   render_body(eol == std::string_view::npos ? std::string_view() : markdown.substr(eol + 1),
                               source_name, 2));
  return fmt::format(".\\\" Generated by airlock-gen-docs from {}; do not edit.\n"
                     ".TH {} {} \"\" {} \"Airlock manual\"\n{}"
                     ".SH NAME\n{} \\- {}\n{}",
                     source_name, roff::literal(upper), roff::text(section), roff::quoted(roff::text(source)),
                     roff::k_page_setup, roff::literal(name), inline_roff(summary), body);
}

}  // namespace airlock::gendocs
