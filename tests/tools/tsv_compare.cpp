// tsv_compare A B [--ignore COL]... [--rel-tol X] [--names-only]
// Compares two EcoTaxa TSVs cell by cell: same columns in the same order,
// same rows in the same order; numbers within a relative tolerance, text
// exactly. Prints the first differences and exits 1 if any, 0 if equal.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using table = std::vector<std::vector<std::string>>;

table read_tsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << path << ": cannot open\n";
    std::exit(2);
  }
  table rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, '\t'))
      cells.push_back(cell);
    if (!line.empty() && line.back() == '\t')
      cells.emplace_back();
    rows.push_back(std::move(cells));
  }
  return rows;
}

bool parse_number(const std::string& s, double& x) {
  if (s.empty())
    return false;
  char* end = nullptr;
  x = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tsv_compare A B [--ignore COL]... [--rel-tol X]\n";
    return 2;
  }
  std::set<std::string> ignore;
  double rel_tol = 1e-6;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--ignore" && i + 1 < argc)
      ignore.insert(argv[++i]);
    else if (a == "--rel-tol" && i + 1 < argc)
      rel_tol = std::atof(argv[++i]);
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  auto a = read_tsv(argv[1]);
  auto b = read_tsv(argv[2]);
  int differences = 0;
  auto report = [&](const std::string& what) {
    if (++differences <= 20)
      std::cout << what << "\n";
  };
  if (a.size() < 2 || b.size() < 2) {
    std::cout << "a file has no header\n";
    return 1;
  }
  if (a[0] != b[0]) {
    report("column names differ");
    for (std::size_t i = 0; i < std::max(a[0].size(), b[0].size()); ++i) {
      auto x = i < a[0].size() ? a[0][i] : "<none>";
      auto y = i < b[0].size() ? b[0][i] : "<none>";
      if (x != y)
        report("  column " + std::to_string(i) + ": " + x + " vs " + y);
    }
    return 1;
  }
  if (a.size() != b.size())
    report("row count differs: " + std::to_string(a.size() - 2) + " vs "
           + std::to_string(b.size() - 2));
  auto rows = std::min(a.size(), b.size());
  double worst = 0;
  std::string worst_where;
  for (std::size_t r = 1; r < rows; ++r) {
    for (std::size_t c = 0; c < a[0].size(); ++c) {
      if (ignore.count(a[0][c]) > 0)
        continue;
      auto x = c < a[r].size() ? a[r][c] : "";
      auto y = c < b[r].size() ? b[r][c] : "";
      if (x == y)
        continue;
      double u = 0, v = 0;
      if (r >= 2 && parse_number(x, u) && parse_number(y, v)) {
        double rel = std::fabs(u - v) / std::max({std::fabs(u), std::fabs(v), 1e-300});
        if (rel > worst) {
          worst = rel;
          worst_where = a[0][c] + " row " + std::to_string(r - 1);
        }
        if (rel <= rel_tol)
          continue;
      }
      report("row " + std::to_string(r >= 2 ? r - 1 : 0) + " column " + a[0][c] + ": '" + x
             + "' vs '" + y + "'");
    }
  }
  std::cout << "compared " << rows - 2 << " rows x " << a[0].size()
            << " columns; largest relative difference " << worst
            << (worst_where.empty() ? "" : " (" + worst_where + ")") << "\n";
  if (differences > 0) {
    std::cout << differences << " differences\n";
    return 1;
  }
  return 0;
}
