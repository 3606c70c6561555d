// zip_list ARCHIVE: prints one line per entry, "<name>\t<size>\t<method>"
// (method 0 = stored), in archive order; exit 1 if it cannot be opened.
#include <iostream>

#include <zip.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: zip_list ARCHIVE\n";
    return 2;
  }
  int err = 0;
  zip_t* z = zip_open(argv[1], ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (z == nullptr) {
    std::cerr << argv[1] << ": cannot open as a zip archive (libzip error " << err << ")\n";
    return 1;
  }
  auto n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(z, zip_uint64_t(i), 0, &st) != 0)
      return 1;
    std::cout << st.name << '\t' << st.size << '\t' << st.comp_method << '\n';
  }
  zip_close(z);
  return 0;
}
