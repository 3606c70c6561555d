#include "actors/io/python_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace seg::io {

namespace {

// Code points CPython's str.isprintable() rejects, beyond ASCII controls
// (which are handled separately). See python_repr_str's limitation note.
bool nonprintable(char32_t c) {
  if (c >= 0x80 && c <= 0xA0)
    return true;
  if (c == 0xAD || c == 0x061C || c == 0x06DD || c == 0x070F || c == 0x180E
      || c == 0x1680 || c == 0x3000 || c == 0xFEFF || c == 0xE0001)
    return true;
  if ((c >= 0x0600 && c <= 0x0605) || (c >= 0x2000 && c <= 0x200F)
      || (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x2064)
      || (c >= 0x2066 && c <= 0x206F) || (c >= 0xD800 && c <= 0xF8FF)
      || (c >= 0xFDD0 && c <= 0xFDEF) || (c >= 0xFFF9 && c <= 0xFFFB)
      || (c >= 0xE0020 && c <= 0xE007F) || c >= 0xF0000)
    return true;
  return (c & 0xFFFE) == 0xFFFE;
}

void append_hex(std::string& out, char32_t c, int digits) {
  static const char* hex = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i)
    out += hex[(c >> (4 * i)) & 0xF];
}

// Decodes one UTF-8 sequence at s[i]; returns its length (1 for a stray byte,
// which is then copied through unchanged by the caller).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& c) {
  auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3
                                   : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    c = b0;
    return 0;
  }
  c = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      c = b0;
      return 0;
    }
    c = (c << 6) | (b & 0x3F);
  }
  return len;
}

void append_repr(std::string& out, const nlohmann::ordered_json& v) {
  using value_t = nlohmann::ordered_json::value_t;
  switch (v.type()) {
    case value_t::null:
    case value_t::discarded:
      out += "None";
      break;
    case value_t::boolean:
      out += v.get<bool>() ? "True" : "False";
      break;
    case value_t::number_integer:
      out += python_repr_int(v.get<std::int64_t>());
      break;
    case value_t::number_unsigned:
      out += python_repr_uint(v.get<std::uint64_t>());
      break;
    case value_t::number_float:
      out += python_repr_float(v.get<double>());
      break;
    case value_t::string:
      out += python_repr_str(v.get_ref<const std::string&>());
      break;
    case value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first)
          out += ", ";
        first = false;
        append_repr(out, e);
      }
      out += ']';
      break;
    }
    case value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, e] : v.items()) {
        if (!first)
          out += ", ";
        first = false;
        out += python_repr_str(key);
        out += ": ";
        append_repr(out, e);
      }
      out += '}';
      break;
    }
    case value_t::binary:
      throw std::invalid_argument("python_repr_json: binary values have no Python form");
  }
}

} // namespace

std::string python_repr_float(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in the form d[.ddd]e±XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  const auto e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos))
    if (c != '.')
      digits += c;
  const int exp10 = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
  const int n = static_cast<int>(digits.size());
  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += 'e';
    out += exp10 < 0 ? '-' : '+';
    const int a = exp10 < 0 ? -exp10 : exp10;
    if (a < 10)
      out += '0';
    out += std::to_string(a);
    return out;
  }
  // Fixed notation; the decimal point goes after digit number exp10 + 1.
  const int point = exp10 + 1;
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += digits;
  } else if (point < n) {
    out.append(digits, 0, static_cast<std::size_t>(point));
    out += '.';
    out.append(digits, static_cast<std::size_t>(point), std::string::npos);
  } else {
    out += digits;
    out.append(static_cast<std::size_t>(point - n), '0');
    out += ".0";
  }
  return out;
}

std::string python_repr_int(std::int64_t value) {
  return std::to_string(value);
}

std::string python_repr_uint(std::uint64_t value) {
  return std::to_string(value);
}

std::string python_repr_str(std::string_view s) {
  const bool squote = s.find('\'') != std::string_view::npos;
  const bool dquote = s.find('"') != std::string_view::npos;
  const char quote = squote && !dquote ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out += quote;
  for (std::size_t i = 0; i < s.size();) {
    const char ch = s[i];
    const auto uch = static_cast<unsigned char>(ch);
    if (uch < 0x80) {
      if (ch == quote || ch == '\\') {
        out += '\\';
        out += ch;
      } else if (ch == '\t') {
        out += "\\t";
      } else if (ch == '\n') {
        out += "\\n";
      } else if (ch == '\r') {
        out += "\\r";
      } else if (uch < 0x20 || uch == 0x7F) {
        out += "\\x";
        append_hex(out, uch, 2);
      } else {
        out += ch;
      }
      ++i;
      continue;
    }
    char32_t c = 0;
    const std::size_t len = decode_utf8(s, i, c);
    if (len == 0) {
      out += ch;
      ++i;
      continue;
    }
    if (nonprintable(c)) {
      if (c <= 0xFF) {
        out += "\\x";
        append_hex(out, c, 2);
      } else if (c <= 0xFFFF) {
        out += "\\u";
        append_hex(out, c, 4);
      } else {
        out += "\\U";
        append_hex(out, c, 8);
      }
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += quote;
  return out;
}

std::string python_repr_json(const nlohmann::ordered_json& value) {
  std::string out;
  append_repr(out, value);
  return out;
}

std::string python_str_json(const nlohmann::ordered_json& value) {
  if (value.is_string())
    return value.get<std::string>();
  return python_repr_json(value);
}

} // namespace seg::io
