#pragma once

// The synthetic generator's random numbers: seeded streams, our own PRNG and
// distributions (so the output does not depend on the standard library) and
// the spreads of the optics' noise. Header-only where it is in inner loops.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace seg::detail {

constexpr double pi = 3.14159265358979323846;
constexpr double noise_sigma = 1.5;      // grey levels, as compose.py
constexpr double flicker_sigma = 0.002;  // per-frame LED gain, as compose.py

// Stream tags: every random quantity comes from its own stream, so adding a
// draw in one place does not shift the others.
enum stream_tag : std::uint64_t {
  tag_illumination = 1,
  tag_time = 2,
  tag_metadata = 3,
  tag_frame = 100,
  tag_noise = 101,
  tag_bad = 200,
  tag_half_size = 201,
  tag_stuck = 300,
  tag_seam = 400,
};

// splitmix64 (Steele, Lea, Flood 2014): seeds and stream derivation.
inline std::uint64_t splitmix64(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline std::uint64_t derive(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                            std::uint64_t c = 0) {
  std::uint64_t s = seed;
  for (auto x : {a, b, c}) {
    s = splitmix64(s) ^ x;
  }
  return splitmix64(s);
}

// xoshiro256** (Blackman, Vigna 2018) with our own distributions, so the
// output does not depend on the standard library.
class prng {
public:
  explicit prng(std::uint64_t seed) {
    for (auto& x : s_)
      x = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [lo, hi].
  std::int64_t integer(std::int64_t lo, std::int64_t hi) {
    auto n = static_cast<std::uint64_t>(hi - lo) + 1;
    auto m = static_cast<unsigned __int128>(next()) * n;
    return lo + static_cast<std::int64_t>(m >> 64);
  }

  /// Standard normal (Box-Muller, one value per call).
  double normal() {
    double u1 = 1.0 - uniform(); // (0, 1]
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * pi * u2);
  }

  /// Poisson(mean): Knuth's product method below 30, a rounded normal
  /// approximation above (count of particles, exactness is not needed there).
  int poisson(double mean) {
    if (mean <= 0)
      return 0;
    if (mean < 30) {
      const double limit = std::exp(-mean);
      int k = 0;
      double p = uniform();
      while (p > limit) {
        ++k;
        p *= uniform();
      }
      return k;
    }
    return std::max(0, static_cast<int>(std::lround(mean + std::sqrt(mean) * normal())));
  }

private:
  static std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4];
};

// Inverse normal CDF (Acklam's rational approximation, |rel. error| < 1.2e-9).
double inverse_normal_cdf(double p);

// Sensor noise: 65536 equiprobable normal quantiles of N(0, noise_sigma²),
// indexed by 16 random bits (see prng.cpp).
const std::vector<float>& noise_table();

} // namespace seg::detail
