// TLS termination: certificates from PEM files, SNI, protocol floor, ALPN, reloads, key permissions, and
// the HTTP-to-HTTPS redirect listener. Real loopback servers and a real OpenSSL client.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "proxy/cert_store.h"
#include "proxy/proxy.h"
#include "proxy/test_servers.h"
#include "proxy/test_tls.h"
#include "testutil/temp_dir.h"

namespace villager::proxy {
namespace {

using testing::eventually;
using testing::RawClient;
using testing::TestUpstream;
using testing::TlsClient;
using testing::write_test_cert;

// Two certificates (a.test and b.test) in a temp dir, and a CA file that trusts both.
struct TestCerts {
  TestCerts() {
    EXPECT_TRUE(write_test_cert({"a.test"}, a_cert(), a_key()));
    EXPECT_TRUE(write_test_cert({"b.test", "*.b.test"}, b_cert(), b_key()));
    write_ca();
  }
  std::string a_cert() const { return (dir / "a.pem").string(); }
  std::string a_key() const { return (dir / "a.key").string(); }
  std::string b_cert() const { return (dir / "b.pem").string(); }
  std::string b_key() const { return (dir / "b.key").string(); }
  std::string ca() const { return (dir / "ca.pem").string(); }
  void write_ca() const {
    std::ofstream out(ca());
    for (const auto& f : {a_cert(), b_cert(), (dir / "c.pem").string()}) {
      std::ifstream in(f);
      if (in) out << in.rdbuf();
    }
  }
  TempDir dir;
};

struct TlsProxy {
  TlsProxy(Routes& routes, const TestCerts& certs, std::chrono::milliseconds reload_interval = {}) {
    auto store = open_cert_files({{certs.a_cert(), certs.a_key()}, {certs.b_cert(), certs.b_key()}});
    EXPECT_TRUE(store) << store.error().message;
    ProxyOptions o;
    o.listen = "127.0.0.1:0";
    o.tls = *store;
    o.tls_reload_interval = reload_interval;
    proxy = std::make_unique<Proxy>(o, routes);
    Status s = proxy->start();
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
  uint16_t port() const { return proxy->port(); }
  std::unique_ptr<Proxy> proxy;
};

// A release "v1" behind an HTTPS proxy that serves a.test (the default) and b.test.
struct HttpsSetup {
  explicit HttpsSetup(std::chrono::milliseconds reload_interval = {})
      : proxy(routes, certs, reload_interval) {}
  std::pair<TestCerts&, TlsProxy&> parts() { return {certs, proxy}; }
  TestCerts certs;
  TestUpstream a{"v1"};
  Routes routes{RouteTable{{Upstream{"v1", "127.0.0.1", a.port(), 1}}, ""}};
  TlsProxy proxy;
};

TEST(Tls, ServesHttpsWithAlpnHttp11AndForwardedProtoHttps) {
  HttpsSetup setup;
  auto [certs, p] = setup.parts();
  TlsClient c(p.port(), "a.test", certs.ca());
  auto hs = c.handshake();
  ASSERT_TRUE(hs.handshake_ok) << hs.error;
  // The client offered h2 first; the proxy speaks HTTP/1.1 and says so.
  EXPECT_EQ(hs.alpn, "http/1.1");
  EXPECT_TRUE(hs.protocol == "TLSv1.3" || hs.protocol == "TLSv1.2") << hs.protocol;
  auto r = c.get("/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "v1");
  EXPECT_EQ((*r)["x-seen-proto"], "https");
  auto r2 = c.get("/y");  // keep-alive over TLS
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body(), "v1");
  EXPECT_EQ(p.proxy->stats().tls_handshakes, 1u);
}

TEST(Tls, SniChoosesTheCertificateNamingTheHost) {
  HttpsSetup setup;
  auto [certs, p] = setup.parts();
  auto names_for = [&](const std::string& sni) {
    TlsClient c(p.port(), sni, certs.ca());
    auto hs = c.handshake();
    EXPECT_TRUE(hs.handshake_ok) << sni << ": " << hs.error;
    return hs.peer_names.empty() ? std::string() : hs.peer_names.front();
  };
  EXPECT_EQ(names_for("a.test"), "a.test");
  EXPECT_EQ(names_for("b.test"), "b.test");
  EXPECT_EQ(names_for("B.TEST"), "b.test");        // names compare case-insensitively
  EXPECT_EQ(names_for("www.b.test"), "b.test");    // *.b.test
  EXPECT_EQ(names_for("x.www.b.test"), "a.test");  // a wildcard covers one label only
  EXPECT_EQ(names_for("other.test"), "a.test");    // unknown: the default (first) certificate
  EXPECT_EQ(names_for(""), "a.test");              // no SNI
}

TEST(Tls, RefusesTls10And11Clients) {
  HttpsSetup setup;
  auto [certs, p] = setup.parts();
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    TlsClient old(p.port(), "a.test", certs.ca(), version);
    EXPECT_FALSE(old.handshake().handshake_ok) << version;
  }
  EXPECT_TRUE(eventually([&] { return p.proxy->stats().tls_failures == 2; }));
  // The same client capped at TLS 1.2 gets in: the refusal was the protocol version.
  TlsClient ok(p.port(), "a.test", certs.ca(), TLS1_2_VERSION);
  auto hs = ok.handshake();
  ASSERT_TRUE(hs.handshake_ok) << hs.error;
  EXPECT_EQ(hs.protocol, "TLSv1.2");
}

TEST(Tls, ReloadServesNewHandshakesTheNewCertificateAndKeepsOpenConnections) {
  HttpsSetup setup;
  auto [certs, p] = setup.parts();
  TlsClient before(p.port(), "a.test", certs.ca());
  ASSERT_TRUE(before.handshake().handshake_ok);
  ASSERT_TRUE(before.get("/1"));

  // A renewal: a new certificate (and key) for a.test under the same file names.
  ASSERT_TRUE(write_test_cert({"a.test", "renewed.a.test"}, (certs.dir / "c.pem").string(), certs.a_key()));
  std::filesystem::rename(certs.dir / "c.pem", certs.a_cert());
  std::filesystem::copy_file(certs.a_cert(), certs.dir / "c.pem");
  certs.write_ca();
  Status s = p.proxy->reload_certificates();
  ASSERT_TRUE(s.ok()) << s.error().message;

  auto r = before.get("/2");  // the connection from before the reload goes on
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "v1");
  TlsClient after(p.port(), "a.test", certs.ca());
  auto hs = after.handshake();
  ASSERT_TRUE(hs.handshake_ok) << hs.error;
  EXPECT_EQ(hs.peer_names, (std::vector<std::string>{"a.test", "renewed.a.test"}));
}

TEST(Tls, AChangedFileIsReloadedWithoutBeingAsked) {
  HttpsSetup setup(std::chrono::milliseconds(20));
  auto [certs, p] = setup.parts();
  ASSERT_TRUE(write_test_cert({"b.test", "new.b.test"}, (certs.dir / "c.pem").string(), certs.b_key()));
  std::filesystem::rename(certs.dir / "c.pem", certs.b_cert());
  std::filesystem::copy_file(certs.b_cert(), certs.dir / "c.pem");
  certs.write_ca();
  EXPECT_TRUE(eventually([&] {
    TlsClient c(p.port(), "b.test", certs.ca());
    auto hs = c.handshake();
    return hs.handshake_ok && hs.peer_names.size() == 2 && hs.peer_names[1] == "new.b.test";
  }));
}

TEST(Tls, AFailedReloadKeepsTheCertificatesInUse) {
  HttpsSetup setup;
  auto [certs, p] = setup.parts();
  // A half-done renewal: a new certificate whose key has not been written yet.
  ASSERT_TRUE(write_test_cert({"a.test"}, (certs.dir / "c.pem").string(), (certs.dir / "c.key").string()));
  std::filesystem::copy_file(certs.dir / "c.pem", certs.a_cert(),
                             std::filesystem::copy_options::overwrite_existing);
  Status s = p.proxy->reload_certificates();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("does not match certificate " + certs.a_cert()), std::string::npos)
      << s.error().message;
  TlsClient c(p.port(), "a.test", certs.ca());
  auto hs = c.handshake();
  ASSERT_TRUE(hs.handshake_ok) << hs.error;
  ASSERT_TRUE(c.get("/x"));
}

TEST(Tls, AnAddressInUseFailsTheStartCleanly) {
  HttpsSetup setup;
  ProxyOptions o;
  o.listen = "127.0.0.1:" + std::to_string(setup.proxy.port());
  o.tls = *open_cert_files({{setup.certs.a_cert(), setup.certs.a_key()}});
  Proxy second(o, setup.routes);
  Status s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find(": bind: "), std::string::npos) << s.error().message;
}

TEST(CertStore, RefusesAKeyReadableByGroupOrOthersNamingTheFile) {
  TestCerts certs;
  ASSERT_TRUE(write_test_cert({"a.test"}, certs.a_cert(), certs.a_key(), 0640));
  auto store = open_cert_files({{certs.a_cert(), certs.a_key()}});
  ASSERT_FALSE(store);
  const std::string& m = store.error().message;
  EXPECT_NE(m.find("tls key " + certs.a_key() + " is readable by group or others (mode 0640)"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("PRIVATE KEY"), std::string::npos);
  std::filesystem::permissions(certs.a_key(), std::filesystem::perms::owner_read);
  EXPECT_TRUE(open_cert_files({{certs.a_cert(), certs.a_key()}}));
}

TEST(CertStore, ErrorsNameTheFileAndNeverTheKey) {
  TestCerts certs;
  auto mismatched = open_cert_files({{certs.a_cert(), certs.b_key()}});
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().message,
            "tls key " + certs.b_key() + " does not match certificate " + certs.a_cert());
  auto missing = open_cert_files({{(certs.dir / "none.pem").string(), certs.a_key()}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("tls certificate " + (certs.dir / "none.pem").string()),
            std::string::npos);
  { std::ofstream(certs.dir / "junk.key") << "not a key\n"; }
  std::filesystem::permissions(certs.dir / "junk.key", std::filesystem::perms::owner_read);
  auto junk = open_cert_files({{certs.a_cert(), (certs.dir / "junk.key").string()}});
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.error().message.find("not a PEM private key"), std::string::npos) << junk.error().message;
}

TEST(Redirect, APlainListenerAnswers308ToTheSameUrlOnHttps) {
  Routes routes;
  ProxyOptions o;
  o.listen = "127.0.0.1:0";
  o.redirect_https_port = 8443;
  Proxy p(o, routes);
  ASSERT_TRUE(p.start().ok());
  RawClient c(p.port());
  ASSERT_TRUE(c.send_raw("GET /a/b?c=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 308u);
  EXPECT_EQ((*r)["location"], "https://example.com:8443/a/b?c=1");
  // Keep-alive: the next request on the same connection is answered too.
  ASSERT_TRUE(c.send_raw("HEAD / HTTP/1.1\r\nHost: [::1]\r\n\r\n"));
  auto r2 = c.read(/*head=*/true);
  ASSERT_TRUE(r2);
  EXPECT_EQ((*r2)["location"], "https://[::1]:8443/");
  // A Host that is not a host name is refused, not echoed into a Location.
  RawClient bad(p.port());
  ASSERT_TRUE(bad.send_raw("GET / HTTP/1.1\r\nHost: evil.test/x@y\r\n\r\n"));
  auto r3 = bad.read();
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->result_int(), 400u);
  EXPECT_EQ(p.stats().redirects, 2u);
}

TEST(Redirect, AListenerEitherServesTlsOrRedirects) {
  TestCerts certs;
  Routes routes;
  ProxyOptions o;
  o.listen = "127.0.0.1:0";
  o.redirect_https_port = 443;
  o.tls = *open_cert_files({{certs.a_cert(), certs.a_key()}});
  Proxy p(o, routes);
  EXPECT_FALSE(p.start().ok());
}

}  // namespace
}  // namespace villager::proxy
