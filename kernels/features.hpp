#pragma once

#include <cstdint>

#include <opencv2/core/mat.hpp>

namespace seg::kernels {

/// Per-object measurements, in the column order of the reference's EcoTaxa
/// export (SPEC-planktoscope §4.1). Code that walks every field uses the one
/// list in actors/io/feature_table.hpp. Lengths and areas are in pixels here;
/// `scale_to_micrometres` converts them for the default profile.
struct object_features {
  int width = 0;                  ///< bbox columns
  int height = 0;                 ///< bbox rows
  int bx = 0;                     ///< bbox left column in the frame
  int by = 0;                     ///< bbox top row in the frame
  double circ = 0;                ///< 4*pi*filled_area / perimeter^2
  double area_exc = 0;            ///< pixel count, holes excluded
  double area = 0;                ///< pixel count after filling holes
  double percent_area = 0;        ///< 1 - area_exc/area (a fraction)
  double major = 0;               ///< 4*sqrt(lambda1) of the inertia tensor
  double minor = 0;               ///< 4*sqrt(lambda2)
  double y = 0;                   ///< centroid row in the frame
  double x = 0;                   ///< centroid column in the frame
  double convex_area = 0;         ///< skimage convex_hull_image pixel count
  double perimeter = 0;           ///< skimage perimeter(neighbourhood 4)
  double elongation = 0;          ///< major/minor
  double perim_area_exc = 0;      ///< perimeter/area_exc
  double perim_major = 0;         ///< perimeter/major
  double circex = 0;              ///< 4*pi*area_exc / perimeter^2
  double angle = 0;               ///< orientation in degrees + 90, [0, 180]
  double bounding_box_area = 0;   ///< width*height
  double eccentricity = 0;        ///< sqrt(1 - lambda2/lambda1)
  double equivalent_diameter = 0; ///< sqrt(4*area_exc/pi)
  int euler_number = 0;           ///< 8-connected objects minus 4-connected holes
  double extent = 0;              ///< area_exc / bounding_box_area
  double local_centroid_col = 0;  ///< centroid column relative to the bbox
  double local_centroid_row = 0;  ///< centroid row relative to the bbox
  double solidity = 0;            ///< area_exc / convex_area
  double blur_laplacian = 0;      ///< variance of the 3x3 Laplacian of the gray crop
  double mean_hue = 0;            ///< over the holes-filled mask, OpenCV 8-bit HSV
  double mean_saturation = 0;
  double mean_value = 0;
  double std_hue = 0;             ///< population standard deviation
  double std_saturation = 0;
  double std_value = 0;
};

/// Measures one region exactly as the reference segmenter does (skimage
/// regionprops definitions, SPEC §4.1, §4.3).
/// @param region CV_8UC1 tight-bbox mask of the region (non-zero = region,
///        holes are zero), as skimage's `regionprops(...).image`.
/// @param corrected_crop CV_8UC3 BGR corrected image over the same bbox.
/// @param bbox the region's bbox in frame coordinates (size == region size).
/// @pre region.size() == corrected_crop.size() == bbox.size(), region non-empty.
object_features measure_region(const cv::Mat& region, const cv::Mat& corrected_crop,
                               const cv::Rect& bbox);

/// Converts lengths to micrometres (x p), areas (x p^2) and inverse lengths
/// (/ p) as the newer reference does when process_pixel = p is valid;
/// positions (bx, by, x, y, local centroids) stay in pixels.
/// @pre p > 0
void scale_to_micrometres(object_features& f, double p);

} // namespace seg::kernels
