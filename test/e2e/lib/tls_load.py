#!/usr/bin/env python3
"""The independent observer of a certificate reload: HTTPS requests in a loop, a new TLS connection each,
until STOPFILE exists; STOPFILE.ready appears after the first answer, so the caller changes nothing before
the observer has seen the first certificate. Prints "ok=N failed=M serials=S1,S2,..." (the certificate serials it was served, in
the order first seen) and the first failures. Usage: tls_load.py PORT SNI CAFILE STOPFILE"""
import os
import socket
import ssl
import sys

port, sni, cafile, stopfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
ok, failed, serials, errors = 0, 0, [], []
while not os.path.exists(stopfile):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=sni) as s:
                der = s.getpeercert(binary_form=True)
                serial = ssl.DER_cert_to_PEM_cert(der)[-120:-26]  # a tail of the PEM: differs per cert
                if serial not in serials:
                    serials.append(serial)
                s.sendall(f"GET /info/health HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1.1 200 "):
                    ok += 1
                    if ok == 1:
                        open(stopfile + ".ready", "w").close()
                else:
                    failed += 1
                    errors.append(data[:80])
    except (OSError, ssl.SSLError) as e:
        failed += 1
        errors.append(repr(e))
print(f"ok={ok} failed={failed} certificates={len(serials)} errors={errors[:3]}")
