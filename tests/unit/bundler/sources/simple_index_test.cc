#include "bundler/sources/simple_index.h"

#include <string>

#include <catch2/catch.hpp>

namespace airlock::bundler::py {
namespace {

const std::string k_index_h1(64, 'a');
const std::string k_index_h2(64, 'b');

TEST_CASE("wheels_index: PEP 503 anchors, fragments, entities and relative hrefs", "[wheels]") {
  std::string html =
      "<!DOCTYPE html>\n<html><head><title>Links for demo</title></head><body>\n"
      "<!-- <a href=\"commented-1.0.whl#sha256=" + k_index_h2 + "\">no</a> -->\n"
      "<h1>Links for demo</h1>\n"
      "<a href=\"../../files/demo_pkg-1.0.0-py3-none-any.whl#sha256=" + k_index_h1 +
      "\" data-requires-python=\"&gt;=3.8\">demo_pkg-1.0.0-py3-none-any.whl</a><br/>\n"
      "<A HREF='https://cdn.example/p/demo-pkg-1.0.0.tar.gz?token=1&amp;x=2#sha256=" + k_index_h2 +
      "' data-yanked>demo-pkg-1.0.0.tar.gz</A>\n"
      "<a href=demo%2Bx-1.0-py3-none-any.whl#md5=0123456789abcdef0123456789abcdef>x</a>\n"
      "</body></html>\n";
  auto files = parse_simple_html(html, "http://127.0.0.1:8000/simple/demo-pkg/");
  REQUIRE(files);
  REQUIRE(files->size() == 3);
  CHECK((*files)[0].filename == "demo_pkg-1.0.0-py3-none-any.whl");
  CHECK((*files)[0].url == "http://127.0.0.1:8000/files/demo_pkg-1.0.0-py3-none-any.whl");
  CHECK((*files)[0].hashes.at("sha256") == k_index_h1);
  CHECK_FALSE((*files)[0].yanked);
  CHECK((*files)[1].url == "https://cdn.example/p/demo-pkg-1.0.0.tar.gz?token=1&x=2");
  CHECK((*files)[1].filename == "demo-pkg-1.0.0.tar.gz");
  CHECK((*files)[1].yanked);
  CHECK((*files)[2].filename == "demo+x-1.0-py3-none-any.whl");
  CHECK((*files)[2].hashes.count("sha256") == 0);
  CHECK((*files)[2].hashes.at("md5") == "0123456789abcdef0123456789abcdef");
}

TEST_CASE("wheels_index: a <base href> changes where links resolve", "[wheels]") {
  auto files = parse_simple_html("<base href=\"https://files.example/x/\"><a href=\"a-1.0-py3-none-any.whl\">a</a>",
                                 "https://index.example/simple/a/");
  REQUIRE(files);
  REQUIRE(files->size() == 1);
  CHECK((*files)[0].url == "https://files.example/x/a-1.0-py3-none-any.whl");
}

TEST_CASE("wheels_index: HTML entities", "[wheels]") {
  CHECK(html_unescape("a&amp;b&lt;c&gt;d&quot;e&#39;f&#x41;g&#66;") == "a&b<c>d\"e'fAgB");
  CHECK(html_unescape("&unknown; & &amp") == "&unknown; & &amp");
  CHECK(html_unescape("&#xE9;") == "\xC3\xA9");
}

TEST_CASE("wheels_index: PEP 691 JSON", "[wheels]") {
  std::string json = R"({"meta": {"api-version": "1.1"}, "name": "demo-pkg", "files": [
    {"filename": "demo_pkg-1.0.0-py3-none-any.whl", "url": "../../files/demo_pkg-1.0.0-py3-none-any.whl",
     "hashes": {"sha256": ")" + k_index_h1 + R"("}, "size": 1234, "yanked": false},
    {"filename": "demo-pkg-1.0.0.tar.gz", "url": "https://x/demo-pkg-1.0.0.tar.gz#sha256=zz",
     "hashes": {}, "yanked": "broken"}]})";
  auto files = parse_simple_json(json, "http://127.0.0.1:8000/simple/demo-pkg/");
  REQUIRE(files);
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].url == "http://127.0.0.1:8000/files/demo_pkg-1.0.0-py3-none-any.whl");
  CHECK((*files)[0].size == 1234u);
  CHECK((*files)[0].hashes.at("sha256") == k_index_h1);
  CHECK((*files)[1].url == "https://x/demo-pkg-1.0.0.tar.gz");
  CHECK_FALSE((*files)[1].size);
  CHECK((*files)[1].yanked);
  CHECK_FALSE(parse_simple_json(R"({"meta": {"api-version": "2.0"}, "files": []})", "u"));
  CHECK_FALSE(parse_simple_json("not json", "u"));
}

TEST_CASE("wheels_index: file names are matched to name and version", "[wheels]") {
  Requirement r;
  r.name = "Demo.Pkg";
  r.normalized = normalize_name(r.name);
  r.version = "1.0";
  CHECK(file_matches_requirement("demo_pkg-1.0-py3-none-any.whl", r));
  CHECK(file_matches_requirement("Demo_Pkg-1.0.0-1-cp311-cp311-manylinux_2_17_x86_64.whl", r));
  CHECK(file_matches_requirement("demo.pkg-1.0.tar.gz", r));
  CHECK(file_matches_requirement("demo-pkg-1.0.zip", r));
  CHECK_FALSE(file_matches_requirement("demo_pkg-1.1-py3-none-any.whl", r));
  CHECK_FALSE(file_matches_requirement("evil-1.0-py3-none-any.whl", r));
  CHECK_FALSE(file_matches_requirement("demo_pkg-1.0.exe", r));
  CHECK_FALSE(file_matches_requirement("demo_pkg-1.0-any.whl", r));
  CHECK(is_safe_dist_filename("demo_pkg-1.0+cpu-py3-none-any.whl"));
  CHECK_FALSE(is_safe_dist_filename("../x.whl"));
  CHECK_FALSE(is_safe_dist_filename(".hidden.whl"));
  CHECK_FALSE(is_safe_dist_filename("a b.whl"));
}

}  // namespace
}  // namespace airlock::bundler::py
