#pragma once
// Splitting a run of 2- or 4-byte elements into byte planes and joining them
// back: the hot loops of the byte-plane codec.
//
// Byte i of a chunk has position (phase + i) mod E within its element and
// goes to plane (phase + i) mod E, in chunk order. Both functions handle a
// chunk that starts or ends mid-element. On x86-64 the whole elements in the
// middle go through SSE2 (part of the x86-64 baseline, so no runtime
// dispatch); elsewhere, and for the partial elements at either end, through
// plain loops. split_planes_scalar/join_planes_scalar are the reference the
// tests hold the fast paths to.

#include <cstddef>
#include <cstdint>

namespace airlock::codec {

// Number of bytes plane k holds for an n-byte chunk.
std::size_t plane_size(std::size_t n, std::uint32_t elem, std::uint32_t phase, std::uint32_t k);

// planes[k] must have room for plane_size(n, elem, phase, k) bytes.
// elem is 2 or 4, phase < elem.
void split_planes(const std::uint8_t* in, std::size_t n, std::uint32_t elem, std::uint32_t phase,
                  std::uint8_t* const* planes);
void join_planes(const std::uint8_t* const* planes, std::size_t n, std::uint32_t elem,
                 std::uint32_t phase, std::uint8_t* out);

void split_planes_scalar(const std::uint8_t* in, std::size_t n, std::uint32_t elem,
                         std::uint32_t phase, std::uint8_t* const* planes);
void join_planes_scalar(const std::uint8_t* const* planes, std::size_t n, std::uint32_t elem,
                        std::uint32_t phase, std::uint8_t* out);

}  // namespace airlock::codec
