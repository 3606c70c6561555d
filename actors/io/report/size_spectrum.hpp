#pragma once

#include <optional>
#include <vector>

// The size spectrum of an acquisition: object counts per ESD class on log
// bins, and the normalised biomass size spectrum (NBSS). Pure arithmetic.
namespace seg::io::report {

/// One size class [lo, hi) of equivalent spherical diameter (ESD).
struct size_bin {
  double lo = 0;          ///< lower ESD edge (µm or px, the objects' unit)
  double hi = 0;          ///< upper ESD edge, = lo × 2^(1/4)
  long count = 0;         ///< objects with lo <= ESD < hi
  double biovolume = 0;   ///< Σ π/6 ESD³ of those objects (unit³)
  double bin_width = 0;   ///< π/6 (hi³ − lo³): the bin's width in biovolume (unit³)
  double nbss = 0;        ///< biovolume / bin_width / volume (per litre), or
                          ///< biovolume / bin_width when no volume is known
};

/// Four classes per octave of ESD (the geometric progression NBSS studies
/// use: each class spans ×2^(1/4) in ESD, ×2^(3/4) in biovolume).
inline constexpr int bins_per_octave = 4;

/// The spectrum of `esd` (every value > 0 and finite; others are left out
/// and not counted). Bins run from the one holding the smallest ESD to the
/// one holding the largest, empty ones included, so the counts sum to the
/// objects counted. Bin edges are 2^(k/4) for integer k.
/// @param litres the volume the objects were imaged in; nullopt: none
///        known, nbss is then per acquisition.
std::vector<size_bin> size_spectrum(const std::vector<double>& esd,
                                    std::optional<double> litres);

} // namespace seg::io::report
