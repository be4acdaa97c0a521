#include "proxy/cert_store.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace villager::proxy {

namespace {

namespace ssl = boost::asio::ssl;

constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
// The same on every context, so a session resumed after SNI switched contexts is still accepted.
constexpr unsigned char kSessionIdContext[] = "villager-proxy";

// OpenSSL's first queued error, as text, and the queue cleared. Its messages never hold key material.
std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool name_matches(const std::string& pattern, const std::string& name) {
  if (pattern == name) return true;
  if (pattern.size() < 3 || pattern.compare(0, 2, "*.") != 0) return false;
  // "*.example.com" covers "a.example.com", not "example.com" nor "a.b.example.com".
  const size_t dot = name.find('.');
  return dot != std::string::npos && dot > 0 && name.compare(dot, std::string::npos, pattern, 1) == 0;
}

// The certificate's DNS names: its subjectAltName entries, else its common name.
std::vector<std::string> dns_names(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type != GEN_DNS) continue;
    const auto* s = n->d.dNSName;
    names.push_back(lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                           static_cast<size_t>(ASN1_STRING_length(s)))));
  }
  GENERAL_NAMES_free(sans);
  if (names.empty()) {
    char cn[256];
    const int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (len > 0) names.push_back(lower(std::string_view(cn, static_cast<size_t>(len))));
  }
  return names;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kAlpnHttp11, sizeof kAlpnHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // no overlap: carry on without ALPN, as HTTP/1.1
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

int select_certificate(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* ctx = static_cast<const CertSet*>(arg)->context_for(name);
  if (ctx != nullptr && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;  // an unknown name gets the default certificate
}

// The private key file: only its owner may read it. OpenSSL parses it straight from the file; no copy
// of it is kept here, and nothing of it reaches a message.
Status use_key(SSL_CTX* ctx, const std::string& path, const std::string& cert_path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return NotFound("tls key " + path + ": " + std::strerror(errno));
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDenied("tls key " + path + " is readable by group or others (mode " + mode +
                            "): chmod 600 it");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return PermissionDenied("tls key " + path + ": " + std::strerror(errno));
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (key == nullptr) {
    ERR_clear_error();
    return InvalidArgument("tls key " + path + ": not a PEM private key (or it is encrypted)");
  }
  const int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 && ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    return InvalidArgument("tls key " + path + " does not match certificate " + cert_path);
  }
  if (ok != 1) return InvalidArgument("tls key " + path + ": " + openssl_error());
  return Ok();
}

Result<std::unique_ptr<ssl::context>> make_context(const CertFiles& files, const CertSet* owner) {
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return Internal("tls: SSL_CTX_new: " + openssl_error());
  auto context = std::make_unique<ssl::context>(raw);  // owns raw from here on
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(raw, CertSet::kTls12Ciphers) != 1)
    return Internal("tls: cipher list: " + openssl_error());
  SSL_CTX_set_session_id_context(raw, kSessionIdContext, sizeof kSessionIdContext - 1);
  SSL_CTX_set_alpn_select_cb(raw, select_alpn, nullptr);
  SSL_CTX_set_tlsext_servername_callback(raw, select_certificate);
  SSL_CTX_set_tlsext_servername_arg(raw, const_cast<CertSet*>(owner));
  if (SSL_CTX_use_certificate_chain_file(raw, files.cert_file.c_str()) != 1)
    return InvalidArgument("tls certificate " + files.cert_file + ": " + openssl_error());
  if (auto s = use_key(raw, files.key_file, files.cert_file); !s.ok()) return s.error();
  if (SSL_CTX_check_private_key(raw) != 1) {
    ERR_clear_error();
    return InvalidArgument("tls key " + files.key_file + " does not match certificate " + files.cert_file);
  }
  return context;
}

}  // namespace

Result<std::shared_ptr<const CertSet>> CertSet::load(const std::vector<CertFiles>& files) {
  if (files.empty()) return InvalidArgument("tls: no certificate given");
  std::shared_ptr<CertSet> set(new CertSet());
  for (const CertFiles& f : files) {
    auto context = make_context(f, set.get());
    if (!context) return context.error();
    std::vector<std::string> names = dns_names(SSL_CTX_get0_certificate((*context)->native_handle()));
    Entry e{std::move(*context), std::move(names)};
    if (e.names.empty())
      return InvalidArgument("tls certificate " + f.cert_file + ": names no host (no DNS subjectAltName)");
    set->entries_.push_back(std::move(e));
  }
  return std::shared_ptr<const CertSet>(std::move(set));
}

CertSet::~CertSet() = default;

SSL_CTX* CertSet::context_for(std::string_view server_name) const {
  const std::string name = lower(server_name);
  for (const Entry& e : entries_) {
    for (const std::string& pattern : e.names) {
      if (name_matches(pattern, name)) return e.context->native_handle();
    }
  }
  return nullptr;
}

std::vector<std::string> CertSet::names() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) out.insert(out.end(), e.names.begin(), e.names.end());
  return out;
}

Result<std::shared_ptr<CertStore>> open_cert_files(std::vector<CertFiles> files) {
  auto store = FileCertStore::open(std::move(files));
  if (!store) return store.error();
  return std::shared_ptr<CertStore>(std::move(*store));
}

Result<std::shared_ptr<FileCertStore>> FileCertStore::open(std::vector<CertFiles> files) {
  std::shared_ptr<FileCertStore> store(new FileCertStore(std::move(files)));
  if (auto s = store->reload(); !s.ok()) return s.error();
  return store;
}

std::shared_ptr<const CertSet> FileCertStore::current() const {
  std::lock_guard lock(mu_);
  return set_;
}

std::vector<FileCertStore::Stamp> FileCertStore::stamps() const {
  std::vector<Stamp> out;
  for (const CertFiles& f : files_) {
    for (const std::string* path : {&f.cert_file, &f.key_file}) {
      struct stat st {};
      Stamp s;
      if (::stat(path->c_str(), &st) == 0)
        s = Stamp{st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size, st.st_ino};
      out.push_back(s);
    }
  }
  return out;
}

Status FileCertStore::reload() {
  std::lock_guard reload_lock(reload_mu_);
  // Stamped before reading: a file changing while it is read is read again on the next check.
  loaded_ = stamps();
  auto set = CertSet::load(files_);
  if (!set) return set.error();
  std::vector<std::string> names = (*set)->names();
  {
    std::lock_guard lock(mu_);
    set_ = std::move(*set);
  }
  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : ",") + n;
  log_event(LogLevel::kInfo, "proxy", "tls.loaded",
            {{"certificates", std::to_string(files_.size())}, {"names", joined}});
  return Ok();
}

Result<bool> FileCertStore::reload_if_changed() {
  {
    std::lock_guard reload_lock(reload_mu_);
    if (stamps() == loaded_) return false;
  }
  if (auto s = reload(); !s.ok()) return s.error();
  return true;
}

}  // namespace villager::proxy
