# OpenCV core/imgproc/imgcodecs. Debian ships OpenCVConfig.cmake only in the
# heavy libopencv-dev; the slim -dev packages we install have none, so fall
# back to finding the headers and libraries ourselves.
# OpenCV_LIBS is core and imgproc, what segflow links. OpenCV_IMGCODECS is for
# tests and benchmarks only: imgcodecs pulls in GDAL and over a hundred more
# libraries, ~100 ms of loading at every process start (segflow encodes and
# decodes its JPEGs with libjpeg-turbo itself, kernels/jpeg_encode.hpp).
find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
if(NOT OpenCV_FOUND)
  find_path(OpenCV_INCLUDE_DIRS opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
  foreach(_m core imgproc imgcodecs)
    find_library(OpenCV_${_m}_LIBRARY opencv_${_m} REQUIRED)
    if(NOT TARGET opencv_${_m})
      add_library(opencv_${_m} SHARED IMPORTED)
      set_target_properties(opencv_${_m} PROPERTIES
        IMPORTED_LOCATION "${OpenCV_${_m}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${OpenCV_INCLUDE_DIRS}")
    endif()
  endforeach()
  set(OpenCV_FOUND TRUE)
endif()
set(OpenCV_LIBS opencv_core opencv_imgproc)
set(OpenCV_IMGCODECS opencv_imgcodecs)
