#include "installer/ledger/event_chain.h"

#include <string>

#include <catch2/catch.hpp>

namespace airlock::installer {
namespace {

// The expected hashes were computed from the formula in event_chain.h by a
// separate program (Python's hashlib and struct), not by this code.
EventRecord first_event() {
  EventRecord e;
  e.id = 1;
  e.time = 1764547200;
  e.user = "alice";
  e.action = "install";
  e.target = "llm/2";
  e.result = "ok";
  e.detail = "3 files";
  e.prev_hash = std::string(event_chain::k_zero_hash);
  return e;
}

constexpr const char* k_first_hash = "dd43a367757fef8f0a73bdae2ead90f13f40537c3bf4f4cdaa70db920421e342";

TEST_CASE("event chain: version 1 (no installer fields) matches the documented formula", "[ledger]") {
  CHECK(event_chain::k_zero_hash == std::string(64, '0'));
  CHECK(event_chain::event_hash(first_event()).value() == k_first_hash);
}

TEST_CASE("event chain: version 2 covers the installer that wrote the event", "[ledger]") {
  EventRecord e;
  e.id = 2;
  e.time = 1764547260;
  e.user = "uid 1001";
  e.action = "rollback";
  e.target = "llm/1";
  e.result = "refused";
  e.installer_version = "0.1.0";
  std::string sha;
  for (int i = 0; i < 32; ++i) {
    sha += "ab";
  }
  e.installer_sha256 = sha;
  e.prev_hash = k_first_hash;
  CHECK(event_chain::event_hash(e).value() == "87e67d0bd5b623760a6e37004dcb052b872478a6a52ec5527e6bb82e9dc2bdd9");

  // Clearing the installer fields switches to the 8-field formula: another hash.
  EventRecord cleared = e;
  cleared.installer_version.reset();
  cleared.installer_sha256.reset();
  CHECK(event_chain::event_hash(cleared).value() != event_chain::event_hash(e).value());
}

TEST_CASE("event chain: negative times and non-ASCII bytes are hashed as stored", "[ledger]") {
  EventRecord e;
  e.id = 2;
  e.time = -5;
  e.detail = "\xc3\xa9";  // U+00E9 in UTF-8
  e.prev_hash = k_first_hash;
  CHECK(event_chain::event_hash(e).value() == "649461c12b8a6a7e80e3e36c74c09b5fe93d9a22f872b899c799d5880bc28aa2");
}

TEST_CASE("event chain: every field is in the hash, and field boundaries count", "[ledger]") {
  const std::string base = event_chain::event_hash(first_event()).value();
  auto changed = [&](auto edit) {
    EventRecord e = first_event();
    edit(e);
    return event_chain::event_hash(e).value() != base;
  };
  CHECK(changed([](EventRecord& e) { e.id = 3; }));
  CHECK(changed([](EventRecord& e) { e.time += 1; }));
  CHECK(changed([](EventRecord& e) { e.user = "mallory"; }));
  CHECK(changed([](EventRecord& e) { e.action = "gc"; }));
  CHECK(changed([](EventRecord& e) { e.target = "llm/1"; }));
  CHECK(changed([](EventRecord& e) { e.result = "failed"; }));
  CHECK(changed([](EventRecord& e) { e.detail = ""; }));
  CHECK(changed([](EventRecord& e) { e.prev_hash[0] = '1'; }));
  // Moving bytes from one field into the next keeps the concatenation but
  // not the length prefixes.
  CHECK(changed([](EventRecord& e) {
    e.action = "installl";
    e.target = "lm/2";
  }));
}

}  // namespace
}  // namespace airlock::installer
