// `segflow certs init DIR`: a small certificate authority and one
// certificate per host, for mutual TLS between serve, worker nodes, ctl and
// the MQTT bridge in a lab without a PKI. Made with OpenSSL's C API (EC
// P-256 keys, SHA-256 signatures). The CA's key stays in DIR: copy only
// ca.pem, HOST.pem and HOST.key to each host.
//
//   DIR/ca.pem, DIR/ca.key        the CA (made once, reused by later runs)
//   DIR/HOST.pem, DIR/HOST.key    one per --host (an existing one is kept)
//
// Keys are created with mode 0600 from the start (actors/io/secret_file.hpp).
#include <unistd.h>

#include <cctype>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <vector>

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "actors/io/atomic_file.hpp"
#include "actors/io/secret_file.hpp"
#include "tools/segflow/commands.hpp"
#include "tools/segflow/common.hpp"

namespace fs = std::filesystem;

namespace seg::cli {

namespace {

struct openssl_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <class T>
using owned = std::unique_ptr<T, openssl_free>;

// Throws with OpenSSL's own reason for the last failure.
[[noreturn]] void fail(const std::string& what) {
  char buf[256] = "unknown error";
  if (auto code = ERR_get_error(); code != 0)
    ERR_error_string_n(code, buf, sizeof buf);
  throw std::runtime_error(what + ": " + buf);
}

owned<EVP_PKEY> new_key() {
  owned<EVP_PKEY> key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  if (!key)
    fail("cannot make an EC P-256 key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  owned<X509_EXTENSION> ext{X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str())};
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    fail("cannot add certificate extension " + value);
}

// A certificate for `key` named `cn`, signed by issuer/issuer_key (itself
// when issuer is null: the CA).
owned<X509> new_certificate(EVP_PKEY* key, const std::string& cn, X509* issuer,
                            EVP_PKEY* issuer_key, long days) {
  owned<X509> cert{X509_new()};
  if (!cert || X509_set_version(cert.get(), 2) != 1)
    fail("cannot make a certificate");
  owned<BIGNUM> serial{BN_new()};
  if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1
      || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    fail("cannot draw a serial number");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600); // a little clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400L);
  X509_set_pubkey(cert.get(), key);
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("segflow"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  bool is_ca = issuer == nullptr;
  X509* signer = is_ca ? cert.get() : issuer;
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (is_ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    // serve and every client authenticate each other with the same kind.
    add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    in6_addr any{};
    bool is_ip = ::inet_pton(AF_INET, cn.c_str(), &any) == 1
                 || ::inet_pton(AF_INET6, cn.c_str(), &any) == 1;
    add_extension(cert.get(), signer, NID_subject_alt_name, (is_ip ? "IP:" : "DNS:") + cn);
  }
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (!is_ca)
    add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), is_ca ? key : issuer_key, EVP_sha256()) == 0)
    fail("cannot sign the certificate of " + cn);
  return cert;
}

template <class Write>
std::string to_pem(Write write) {
  owned<BIO> bio{BIO_new(BIO_s_mem())};
  if (!bio || write(bio.get()) != 1)
    fail("cannot write PEM");
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, std::size_t(n));
}

std::string key_pem(EVP_PKEY* key) {
  return to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

std::string cert_pem(X509* cert) {
  return to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert); });
}

owned<BIO> read_bio(const std::string& text) {
  owned<BIO> bio{BIO_new_mem_buf(text.data(), int(text.size()))};
  if (!bio)
    fail("out of memory");
  return bio;
}

// A host name becomes a file name: only what is safe in one.
bool safe_name(const std::string& host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-')
    return false;
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':'
        && c != '_')
      return false;
  return host != "ca";
}

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
    return "localhost";
  return name;
}

int certs_init(const fs::path& dir, std::vector<std::string> hosts, long days) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "error: " << dir.string() << ": " << ec.message() << "\n";
    return exit_usage;
  }
  auto ca_cert_file = dir / "ca.pem";
  auto ca_key_file = dir / "ca.key";
  owned<EVP_PKEY> ca_key;
  owned<X509> ca_cert;
  if (fs::exists(ca_cert_file) || fs::exists(ca_key_file)) {
    auto key_text = io::read_secret_file(ca_key_file, 1 << 16);
    auto cert_text = io::read_file(ca_cert_file);
    ca_key.reset(PEM_read_bio_PrivateKey(read_bio(key_text).get(), nullptr, nullptr, nullptr));
    ca_cert.reset(PEM_read_bio_X509(read_bio(cert_text).get(), nullptr, nullptr, nullptr));
    if (!ca_key || !ca_cert || X509_check_private_key(ca_cert.get(), ca_key.get()) != 1)
      fail(ca_cert_file.string() + " and " + ca_key_file.string() + " are not a CA pair");
    std::cout << "CA: " << ca_cert_file.string() << " (kept)\n";
  } else {
    ca_key = new_key();
    ca_cert = new_certificate(ca_key.get(), "segflow CA", nullptr, nullptr, days);
    io::create_secret_file(ca_key_file, key_pem(ca_key.get()));
    io::write_file_atomic(ca_cert_file, cert_pem(ca_cert.get()));
    std::cout << "CA: " << ca_cert_file.string() << " (new)\n";
  }
  for (auto& host : hosts) {
    auto cert_file = dir / (host + ".pem");
    auto key_file = dir / (host + ".key");
    if (fs::exists(cert_file) || fs::exists(key_file)) {
      std::cout << "host " << host << ": " << cert_file.string() << " (kept)\n";
      continue;
    }
    auto key = new_key();
    auto cert = new_certificate(key.get(), host, ca_cert.get(), ca_key.get(), days);
    io::create_secret_file(key_file, key_pem(key.get()));
    io::write_file_atomic(cert_file, cert_pem(cert.get()));
    std::cout << "host " << host << ": " << cert_file.string() << " " << key_file.string()
              << " (new)\n";
  }
  return exit_ok;
}

} // namespace

int run_certs(int argc, char** argv) {
  std::vector<std::string> words;
  std::vector<std::string> hosts;
  std::int64_t days = 3650;
  arg_parser parser(
    "segflow certs init DIR [--host NAME]... [--days N]",
    "Makes a small certificate authority in DIR (ca.pem, ca.key; kept when\n"
    "there) and a certificate and key for each --host (NAME.pem, NAME.key;\n"
    "default: this host's name), for mutual TLS between serve and its clients\n"
    "(--tls-cert NAME.pem --tls-key NAME.key --tls-ca ca.pem). Copy ca.pem and\n"
    "a host's two files to that host; ca.key stays here.");
  parser.repeated("host", &hosts, "NAME", "a host name or IP address to certify");
  parser.option("days", &days, "N", "validity in days (default 3650)", 1, 36500);
  parser.positionals(&words, "init DIR", 2);
  if (auto rc = parser.parse(argc, argv, 2); rc != exit_ok)
    return rc < 0 ? exit_ok : rc;
  if (words.size() != 2 || words[0] != "init") {
    std::cerr << "error: expected `init DIR`\n(see segflow certs --help)\n";
    return exit_usage;
  }
  if (hosts.empty())
    hosts.push_back(this_host());
  for (auto& h : hosts)
    if (!safe_name(h)) {
      std::cerr << "error: --host '" << h << "' is not a host name or address\n";
      return exit_usage;
    }
  try {
    return certs_init(words[1], hosts, long(days));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
}

} // namespace seg::cli
