// Certificates made at test time (OpenSSL): a CA, a server certificate for 127.0.0.1/localhost
// signed by it, and a client certificate. Nothing is read from or written to the network.
#pragma once

#include <memory>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace hnsproxy::test {

struct KeyPair {
  std::string certPem;
  std::string keyPem;
};

namespace detail {
inline std::string pemOf(X509* x) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}
inline std::string pemOf(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}
inline void ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, e, -1);
  X509_EXTENSION_free(e);
}
}  // namespace detail

// issuer == nullptr: self-signed CA.
struct Issued {
  KeyPair pem;
  std::shared_ptr<X509> cert;
  std::shared_ptr<EVP_PKEY> key;
};

inline Issued issue(const char* cn, const Issued* issuer, bool isCa, const char* san) {
  Issued out;
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* x = X509_new();
  X509_set_version(x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* issuerCert = issuer ? issuer->cert.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuerCert));
  detail::ext(x, issuerCert, NID_basic_constraints, isCa ? "critical,CA:TRUE" : "CA:FALSE");
  if (san) detail::ext(x, issuerCert, NID_subject_alt_name, san);
  X509_sign(x, issuer ? issuer->key.get() : key, EVP_sha256());
  out.pem = {detail::pemOf(x), detail::pemOf(key)};
  out.cert.reset(x, X509_free);
  out.key.reset(key, EVP_PKEY_free);
  return out;
}

struct TestPki {
  Issued ca = issue("hnsproxy test CA", nullptr, true, nullptr);
  Issued server = issue("kube-apiserver", &ca, false, "IP:127.0.0.1,DNS:localhost");
  Issued client = issue("system:kube-proxy", &ca, false, nullptr);
  Issued otherCa = issue("some other CA", nullptr, true, nullptr);
};

}  // namespace hnsproxy::test
