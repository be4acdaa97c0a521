#pragma once
// Test-only TLS helpers (header-only): self-signed P-256 certificates written as PEM files, and a blocking
// TLS client that reports what the handshake chose (certificate names, ALPN, protocol).

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace villager::proxy::testing {

// Writes a self-signed certificate for `names` (the first is also its CN) to cert_path and its key to
// key_path with mode `key_mode`. Returns false on any OpenSSL failure.
inline bool write_test_cert(const std::vector<std::string>& names, const std::string& cert_path,
                            const std::string& key_path, mode_t key_mode = 0600) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  bool ok = key != nullptr && x != nullptr;
  if (ok) {
    X509_set_version(x, 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(names.front().c_str()), -1, -1, 0);
    X509_set_issuer_name(x, name);
    std::string san;
    for (const auto& n : names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    ok = ext != nullptr && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
  }
  if (ok) {
    std::FILE* c = std::fopen(cert_path.c_str(), "w");
    ok = c != nullptr && PEM_write_X509(c, x) == 1;
    if (c) std::fclose(c);
    ::unlink(key_path.c_str());
    std::FILE* k = std::fopen(key_path.c_str(), "w");
    ok = ok && k != nullptr && PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (k) std::fclose(k);
    ok = ok && ::chmod(key_path.c_str(), key_mode) == 0;
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

// What a TLS client saw; handshake_ok false when the server refused (then the rest is empty).
struct TlsResult {
  bool handshake_ok = false;
  std::string error;
  std::vector<std::string> peer_names;  // the served certificate's DNS names
  std::string alpn;
  std::string protocol;  // "TLSv1.3"
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response{};
};

// A blocking TLS client: connects to 127.0.0.1:port, sends SNI `server_name` (none when empty), offers
// ALPN h2 and http/1.1, trusts `ca_file` (the self-signed certificate), and with `max_version` caps the
// protocol it offers. With `target` non-empty it sends one GET and reads the answer.
class TlsClient {
 public:
  TlsClient(uint16_t port, std::string server_name, std::string ca_file, int max_version = 0)
      : ctx_(boost::asio::ssl::context::tls_client) {
    // Everything on the context first: an SSL object copies versions, ciphers and ALPN when created.
    SSL_CTX* raw = ctx_.native_handle();
    if (max_version != 0) {
      // Old protocols need security level 0 on the client side of OpenSSL 3 even to be offered.
      SSL_CTX_set_security_level(raw, 0);
      SSL_CTX_set_min_proto_version(raw, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(raw, max_version);
      SSL_CTX_set_cipher_list(raw, "DEFAULT:@SECLEVEL=0");
    }
    static const unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(raw, kAlpn, sizeof kAlpn);
    boost::system::error_code ec;
    ctx_.load_verify_file(ca_file, ec);
    stream_.emplace(ioc_, ctx_);
    stream_->set_verify_mode(boost::asio::ssl::verify_peer, ec);
    if (!server_name.empty()) SSL_set_tlsext_host_name(stream_->native_handle(), server_name.c_str());
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    stream_->next_layer().connect(ep, ec);
    connected_ = !ec;
  }

  TlsResult handshake() {
    TlsResult r;
    if (!connected_) {
      r.error = "connect failed";
      return r;
    }
    boost::system::error_code ec;
    stream_->handshake(boost::asio::ssl::stream_base::client, ec);
    if (ec) {
      r.error = ec.message();
      return r;
    }
    r.handshake_ok = true;
    SSL* ssl = stream_->native_handle();
    r.protocol = SSL_get_version(ssl);
    const unsigned char* alpn = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &len);
    r.alpn.assign(reinterpret_cast<const char*>(alpn), len);
    X509* peer = SSL_get1_peer_certificate(ssl);
    auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS)
        r.peer_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                  static_cast<size_t>(ASN1_STRING_length(n->d.dNSName)));
    }
    GENERAL_NAMES_free(sans);
    X509_free(peer);
    return r;
  }

  // One keep-alive GET on the established connection.
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> get(
      const std::string& target) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "test");
    boost::system::error_code ec;
    http::write(*stream_, req, ec);
    if (ec) return std::nullopt;
    http::response<http::string_body> res;
    http::read(*stream_, buffer_, res, ec);
    if (ec) return std::nullopt;
    return res;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace villager::proxy::testing
