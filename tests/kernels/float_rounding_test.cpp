// The reference computes its features in numpy float64, rounding after every
// multiply and add. GCC fuses a*b+c into one FMA (one rounding) wherever the
// target has FMA (every aarch64) unless the build says -ffp-contract=off, and
// the features then differ from the reference's in the last bits (found on
// arm64: a golden trace's frame result differed). x86-64 without -mfma cannot
// fuse, so this test fails only where it matters: under qemu on arm64 in CI.
#include <catch2/catch.hpp>

namespace {

// Opaque to the optimiser, so the sum is computed at run time with the
// project's flags rather than folded by the compiler.
volatile double opaque_a = 1.0 + 0x1p-27;
volatile double opaque_b = 1.0 - 0x1p-27;
volatile double opaque_c = -1.0;

double multiply_add(double a, double b, double c) { return a * b + c; }

} // namespace

TEST_CASE("a*b+c rounds the product before the sum (no FMA contraction)",
          "[kernel][float]") {
  // a*b = 1 - 2^-54 exactly, which rounds to 1.0: the unfused sum is 0, an FMA
  // gives -2^-54.
  const double fused = -0x1p-54;
  const double sum = multiply_add(opaque_a, opaque_b, opaque_c);
  CHECK(sum == 0.0);
  CHECK(sum != fused);
}
