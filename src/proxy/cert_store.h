#pragma once
// TLS certificates for the proxy's HTTPS listeners: CertSet (loaded contexts, SNI) and FileCertStore (PEM
// files, reloads). The CertStore interface and CertFiles are in proxy.h, the module's front header.

#include <sys/types.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "proxy/proxy.h"

namespace villager::proxy {

// A loaded set of certificates, immutable once built: one SSL context per certificate, all configured
// alike (TLS 1.2 and 1.3 only, kTls12Ciphers, ALPN http/1.1). A handshake starts on the first (the
// default, also for clients without SNI) and SNI switches it to the certificate naming the server name.
class CertSet {
 public:
  // TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (TLS 1.3 uses OpenSSL's defaults).
  static constexpr const char* kTls12Ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

  // Loads every pair; errors name the file (never key content). Refuses a key file that group or others
  // may read, a certificate without a name, and a key that does not match its certificate.
  static Result<std::shared_ptr<const CertSet>> load(const std::vector<CertFiles>& files);

  CertSet(const CertSet&) = delete;
  CertSet& operator=(const CertSet&) = delete;
  ~CertSet();

  boost::asio::ssl::context& default_context() const { return *entries_.front().context; }
  // The context whose certificate names `server_name` (exactly, or by a "*." wildcard for one label),
  // else null.
  SSL_CTX* context_for(std::string_view server_name) const;
  // Every certificate's DNS names, in file order (for logs and tests).
  std::vector<std::string> names() const;

 private:
  struct Entry {
    std::unique_ptr<boost::asio::ssl::context> context;
    std::vector<std::string> names;  // lower case; "*.example.com" for a wildcard
  };
  CertSet() = default;
  std::vector<Entry> entries_;
};

// Certificates and keys read from PEM files. A change is noticed by each file's (mtime, size, inode), so
// a renewal written in place or renamed over the old file is picked up; a half-written one (a new
// certificate with the old key) fails to load, keeps the old set, and is tried again when a file moves.
class FileCertStore : public CertStore {
 public:
  static Result<std::shared_ptr<FileCertStore>> open(std::vector<CertFiles> files);

  std::shared_ptr<const CertSet> current() const override;
  Status reload() override;
  Result<bool> reload_if_changed() override;

 private:
  struct Stamp {
    time_t mtime_sec = 0;
    long mtime_nsec = 0;
    off_t size = 0;
    ino_t inode = 0;
    bool operator==(const Stamp&) const = default;
  };
  explicit FileCertStore(std::vector<CertFiles> files) : files_(std::move(files)) {}
  std::vector<Stamp> stamps() const;

  const std::vector<CertFiles> files_;
  std::mutex reload_mu_;       // one reload at a time
  std::vector<Stamp> loaded_;  // Guarded by reload_mu_: the stamps of the last attempt.
  mutable std::mutex mu_;
  std::shared_ptr<const CertSet> set_;  // Guarded by mu_.
};

}  // namespace villager::proxy
