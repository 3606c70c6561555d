#include "actors/io/python_format.hpp"

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using nlohmann::ordered_json;
using seg::io::python_repr_float;

// Expected texts are what CPython 3.11 prints for repr(x) (checked with
// python3 -c 'print(repr(x))').
TEST_CASE("python_repr_float matches Python's repr", "[io]") {
  struct row {
    double value;
    const char* text;
  };
  const row table[] = {
    {0.1, "0.1"},
    {1.0 / 3.0, "0.3333333333333333"},
    {2.0 / 3.0, "0.6666666666666666"},
    {1e16, "1e+16"},
    {1e-5, "1e-05"},
    {0.00001, "1e-05"},
    {0.0001, "0.0001"},
    {123456789012345678.0, "1.2345678901234568e+17"},
    {5e-324, "5e-324"},
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {1.7976931348623157e+308, "1.7976931348623157e+308"},
    {100.0, "100.0"},
    {1e22, "1e+22"},
    {1.5e-07, "1.5e-07"},
    {123.5, "123.5"},
    {2.0, "2.0"},
    {9999999999999998.0, "9999999999999998.0"},
    {1e15, "1000000000000000.0"},
    {0.1 + 0.2, "0.30000000000000004"},
    {-1.5e300, "-1.5e+300"},
    {2.5e-5, "2.5e-05"},
    {12345.678, "12345.678"},
    {0.5, "0.5"},
    {9.999999999999999e-05, "9.999999999999999e-05"},
    {9007199254740992.0, "9007199254740992.0"},
    {1234567890123456.7, "1234567890123456.8"},
    {std::numeric_limits<double>::infinity(), "inf"},
    {-std::numeric_limits<double>::infinity(), "-inf"},
    {std::numeric_limits<double>::quiet_NaN(), "nan"},
  };
  for (const auto& r : table) {
    INFO("expected " << r.text);
    CHECK(python_repr_float(r.value) == r.text);
  }
}

TEST_CASE("python_repr_float round-trips every value it prints", "[io]") {
  // A spread of magnitudes, including subnormals and values near the
  // fixed/scientific switch (1e-4 and 1e16).
  double v = 5e-324;
  int checked = 0;
  while (v < 1e300) {
    const std::string s = python_repr_float(v);
    CHECK(std::strtod(s.c_str(), nullptr) == v);
    v = v * 3.7 + 1e-320;
    ++checked;
  }
  CHECK(checked > 500);
}

TEST_CASE("python_repr_str chooses quotes and escapes like Python", "[io]") {
  using seg::io::python_repr_str;
  CHECK(python_repr_str("abc") == "'abc'");
  CHECK(python_repr_str("it's") == "\"it's\"");
  CHECK(python_repr_str("say \"hi\"") == "'say \"hi\"'");
  CHECK(python_repr_str("both ' and \"") == "'both \\' and \"'");
  CHECK(python_repr_str("tab\there\nnl\\") == "'tab\\there\\nnl\\\\'");
  CHECK(python_repr_str("\x01\x7f") == "'\\x01\\x7f'");
  // é is printable and kept; NBSP, LINE SEPARATOR and SOFT HYPHEN are not.
  CHECK(python_repr_str("\xc3\xa9\xc2\xa0\xe2\x80\xa8\xf0\x9d\x84\x9e")
        == "'\xc3\xa9\\xa0\\u2028\xf0\x9d\x84\x9e'");
  CHECK(python_repr_str("\xc2\xad") == "'\\xad'");
  CHECK(python_repr_str("") == "''");
}

TEST_CASE("python_repr_json prints json.load values as Python's str()", "[io]") {
  using seg::io::python_repr_json;
  using seg::io::python_str_json;
  // str({'a': [1, 2.5, None, True, False, {}], 'b': {'c': 'd'}, 'e': []})
  const auto doc = ordered_json::parse(
    R"({"a": [1, 2.5, null, true, false, {}], "b": {"c": "d"}, "e": []})");
  CHECK(python_repr_json(doc)
        == "{'a': [1, 2.5, None, True, False, {}], 'b': {'c': 'd'}, 'e': []}");
  // Key order is the file's, not sorted.
  CHECK(python_repr_json(ordered_json::parse(R"({"z": 1, "a": 2})")) == "{'z': 1, 'a': 2}");
  CHECK(python_str_json(ordered_json("plain text")) == "plain text");
  CHECK(python_repr_json(ordered_json("plain text")) == "'plain text'");
  CHECK(python_str_json(ordered_json(true)) == "True");
  CHECK(python_str_json(ordered_json(nullptr)) == "None");
  CHECK(python_str_json(ordered_json(20)) == "20");
  CHECK(python_str_json(ordered_json(1.2)) == "1.2");
  CHECK(python_str_json(ordered_json::parse("1e-5")) == "1e-05");
  CHECK(python_str_json(ordered_json::parse("18446744073709551615")) == "18446744073709551615");
  CHECK(python_str_json(ordered_json::parse("-3")) == "-3");
  CHECK(seg::io::python_repr_int(-42) == "-42");
}
