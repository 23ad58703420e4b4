#include "installer/targets/targets.h"

#include <catch2/catch.hpp>

using namespace airlock::installer;

TEST_CASE("a local model's synthetic commit depends on its files only", "[targets]") {
  const std::string a = local_model_commit({{"config.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'b')}});
  const std::string b = local_model_commit({{"w.safetensors", std::string(64, 'b')}, {"config.json", std::string(64, 'a')}});
  CHECK(a == b);  // order does not matter
  CHECK(a.size() == 40);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != local_model_commit({{"config.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'c')}}));
  CHECK(a != local_model_commit({{"config2.json", std::string(64, 'a')}, {"w.safetensors", std::string(64, 'b')}}));
}
