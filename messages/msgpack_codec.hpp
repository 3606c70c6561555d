#pragma once

// Packs and unpacks message structs with msgpack by walking the same
// `inspect` field list CAF serialises through, so each struct lists its
// fields once. A struct is a msgpack array of its fields in declaration
// order; byte vectors are BIN; other vectors are arrays. Include only in
// trace and test code: msgpack.hpp is heavy.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <msgpack.hpp>

namespace seg::codec {

/// Thrown when bytes do not hold the expected structure.
class decode_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class T, class = void>
struct is_inspectable : std::false_type {};

struct probe {
  using result_type = void;
  template <class... Ts>
  void operator()(Ts&...) {
    // nop
  }
};

template <class T>
struct is_inspectable<T, std::void_t<decltype(inspect(std::declval<probe&>(),
                                                      std::declval<T&>()))>>
  : std::true_type {};

template <class T>
struct is_vector : std::false_type {};

template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

// Counts the fields an inspect lists.
struct counter {
  using result_type = void;
  std::size_t n = 0;
  template <class... Ts>
  void operator()(Ts&...) {
    n += sizeof...(Ts);
  }
};

template <class T>
std::size_t field_count(T& x) {
  counter c;
  inspect(c, x);
  return c.n;
}

} // namespace detail

/// Writes values into a msgpack buffer.
class writer {
public:
  using result_type = void;

  /// With `digest_bytes`, byte vectors are written as a 13-byte BIN: '#',
  /// their 64-bit FNV-1a hash and their size (little-endian), as traces
  /// record frames and crops by default.
  explicit writer(msgpack::sbuffer& buf, bool digest_bytes = false)
    : pk_(buf), digest_bytes_(digest_bytes) {
    // nop
  }

  template <class... Ts>
  void operator()(Ts&... xs) {
    (write(xs), ...);
  }

  template <class T>
  void write(T& x) {
    using U = std::decay_t<T>;
    if constexpr (std::is_same_v<U, bool>) {
      x ? pk_.pack_true() : pk_.pack_false();
    } else if constexpr (std::is_enum_v<U>) {
      pk_.pack(static_cast<std::underlying_type_t<U>>(x));
    } else if constexpr (std::is_integral_v<U> || std::is_floating_point_v<U>) {
      pk_.pack(x);
    } else if constexpr (std::is_same_v<U, std::string>) {
      pk_.pack_str(std::uint32_t(x.size()));
      pk_.pack_str_body(x.data(), std::uint32_t(x.size()));
    } else if constexpr (std::is_same_v<U, std::vector<std::uint8_t>>) {
      if (digest_bytes_) {
        std::uint64_t h = 1469598103934665603ull;
        for (auto b : x) {
          h ^= b;
          h *= 1099511628211ull;
        }
        char d[13];
        d[0] = '#';
        for (int i = 0; i < 8; ++i)
          d[1 + i] = char(h >> (8 * i));
        auto n = std::uint32_t(x.size());
        for (int i = 0; i < 4; ++i)
          d[9 + i] = char(n >> (8 * i));
        pk_.pack_bin(13);
        pk_.pack_bin_body(d, 13);
        return;
      }
      pk_.pack_bin(std::uint32_t(x.size()));
      pk_.pack_bin_body(reinterpret_cast<const char*>(x.data()), std::uint32_t(x.size()));
    } else if constexpr (detail::is_vector<U>::value) {
      pk_.pack_array(std::uint32_t(x.size()));
      for (auto& e : x)
        write(e);
    } else {
      static_assert(detail::is_inspectable<U>::value, "type has no inspect");
      pk_.pack_array(std::uint32_t(detail::field_count(x)));
      inspect(*this, x);
    }
  }

private:
  msgpack::packer<msgpack::sbuffer> pk_;
  bool digest_bytes_ = false;
};

/// Reads values from an unpacked msgpack object, checking every type.
class reader {
public:
  using result_type = void;

  reader() = default;

  /// Reads `x` from the object `o` itself.
  template <class T>
  void read_root(const msgpack::object& o, T& x) {
    read_from(o, x);
  }

  template <class... Ts>
  void operator()(Ts&... xs) {
    (read(xs), ...);
  }

  template <class T>
  void read(T& x) {
    read_from(next(), x);
  }

private:
  struct frame {
    const msgpack::object* obj;
    std::size_t pos;
  };

  const msgpack::object& next() {
    if (stack_.empty())
      throw decode_error("msgpack: no struct to read fields from");
    auto& top = stack_.back();
    if (top.obj->type != msgpack::type::ARRAY) {
      if (top.pos++ != 0)
        throw decode_error("msgpack: read past a scalar");
      return *top.obj;
    }
    if (top.pos >= top.obj->via.array.size)
      throw decode_error("msgpack: struct has fewer fields than expected");
    return top.obj->via.array.ptr[top.pos++];
  }

  template <class T>
  void read_from(const msgpack::object& o, T& x) {
    using U = std::decay_t<T>;
    try {
      if constexpr (std::is_same_v<U, bool>) {
        if (o.type != msgpack::type::BOOLEAN)
          throw decode_error("msgpack: expected a bool");
        x = o.via.boolean;
      } else if constexpr (std::is_enum_v<U>) {
        std::underlying_type_t<U> v;
        o.convert(v);
        x = static_cast<U>(v);
      } else if constexpr (std::is_integral_v<U> || std::is_floating_point_v<U>) {
        o.convert(x);
      } else if constexpr (std::is_same_v<U, std::string>) {
        if (o.type != msgpack::type::STR)
          throw decode_error("msgpack: expected a string");
        x.assign(o.via.str.ptr, o.via.str.size);
      } else if constexpr (std::is_same_v<U, std::vector<std::uint8_t>>) {
        if (o.type != msgpack::type::BIN)
          throw decode_error("msgpack: expected bytes");
        x.assign(reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr),
                 reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr) + o.via.bin.size);
      } else if constexpr (detail::is_vector<U>::value) {
        if (o.type != msgpack::type::ARRAY)
          throw decode_error("msgpack: expected an array");
        x.clear();
        x.resize(o.via.array.size);
        for (std::uint32_t i = 0; i < o.via.array.size; ++i)
          read_from(o.via.array.ptr[i], x[i]);
      } else {
        if (o.type != msgpack::type::ARRAY)
          throw decode_error("msgpack: expected a struct (array)");
        stack_.push_back({&o, 0});
        inspect(*this, x);
        bool complete = stack_.back().pos == o.via.array.size;
        stack_.pop_back();
        if (!complete)
          throw decode_error("msgpack: struct has more fields than expected");
      }
    } catch (const msgpack::type_error&) {
      throw decode_error("msgpack: value of the wrong type");
    }
  }

  std::vector<frame> stack_;
};

/// Packs one value.
template <class T>
std::string pack(const T& value, bool digest_bytes = false) {
  msgpack::sbuffer buf;
  writer w(buf, digest_bytes);
  auto copy = value;
  w.write(copy);
  return std::string(buf.data(), buf.size());
}

/// Packs an already unpacked object again (for re-rendering parts).
inline std::string pack_object(const msgpack::object& o) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, o);
  return std::string(buf.data(), buf.size());
}

/// Unpacks one value; throws decode_error on malformed or mistyped input.
template <class T>
T unpack(const std::string& bytes) {
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    throw decode_error(std::string("msgpack: ") + e.what());
  }
  T value;
  reader r;
  r.read_root(handle.get(), value);
  return value;
}

} // namespace seg::codec
