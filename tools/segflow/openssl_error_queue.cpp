// CAF 0.17's OpenSSL transport never clears OpenSSL's per-thread error
// queue, and one multiplexer thread serves every connection. A client that
// disconnects without a TLS close_notify (every `segflow ctl` run) leaves
// "unexpected eof while reading" in that queue; the next SSL_write on
// another connection that only has to wait for the socket (WANT_WRITE) is
// then classified by SSL_get_error as SSL_ERROR_SSL, and CAF closes that
// connection: a worker node lost its link whenever it fetched the flat
// while ctl clients came and went (docs/CLUSTER.md). OpenSSL requires an
// empty queue before each I/O call, so these definitions, which the
// executable exports ahead of libssl's, clear it and call libssl's own.
#if SEGFLOW_HAVE_ACTORS

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <cstdio>

namespace {

template <class Fn>
Fn libssl_symbol(const char* name) {
  auto* f = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
  if (f == nullptr) {
    std::fprintf(stderr, "error: %s not found in libssl\n", name);
    std::abort();
  }
  return f;
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto real = libssl_symbol<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto real = libssl_symbol<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto real = libssl_symbol<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto real = libssl_symbol<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

#endif
