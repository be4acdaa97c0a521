#!/usr/bin/env python3
"""Generates SigV4 test requests and signs them with botocore (an implementation villager did not
write). Prints one JSON object per line: the request before signing, the signing inputs, and the
headers botocore added. sigv4_test.cc signs the same requests with villager and compares.

usage: botocore_sign.py [COUNT] [SEED]
"""
import datetime
import json
import random
import sys
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 500
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261127)

SEGMENTS = ["2015-03-31", "functions", "sgraph_ai_app_send__user-prod", "aliases", "live", "a b", "ünïcödé",
            "日本", "x+y", "100%", "a=b&c", "~tilde", "semi;colon", "quote'd", ".", "..", "", "$LATEST",
            "(paren)", "*star*", "comma,sep", "colon:x", "at@sign"]
QUERY_KEYS = ["Qualifier", "MaxItems", "Marker", "list-type", "prefix", "a b", "ключ", "empty", "Z", "a",
              "x-id", "continuation-token"]
QUERY_VALUES = ["live", "10", "", "a b/c", "transfers/ab/", "€uro", "1+1=2", "~ok", "%41", "*"]
HEADER_NAMES = ["Content-Type", "X-Amz-Target", "x-amz-meta-Name", "X-Custom", "Accept", "User-Agent",
                "x-amz-content-sha256", "Range", "If-Match", "X-Amzn-Trace-Id", "Expect", "x-amz-acl"]
HEADER_VALUES = ["application/json", "  leading and trailing  ", "many    inner \t spaces", "",
                 "a,b", "bytes=0-99", "\"etag\"", "Lambda.UpdateFunctionCode", "public-read",
                 "100-continue", "tab\there"]
HOSTS = ["127.0.0.1:4566", "lambda.eu-west-2.amazonaws.com", "localhost:80", "s3.eu-west-2.amazonaws.com:443",
         "[::1]:5000", "example.amazonaws.com"]
SERVICES = [("lambda", False), ("s3", True), ("monitoring", False), ("logs", False), ("iam", False),
            ("sts", False)]
REGIONS = ["eu-west-2", "us-east-1", "ap-southeast-2"]


def gen_path():
    segs = [rng.choice(SEGMENTS) for _ in range(rng.randint(0, 5))]
    path = "/" + "/".join(segs)
    if rng.random() < 0.2:
        path += "/"
    if rng.random() < 0.1:
        path = path.replace("/", "//", 1)
    # Most clients send the path percent-encoded; some requests keep raw characters.
    return quote(path, safe="/~") if rng.random() < 0.85 else path


def gen_query():
    if rng.random() < 0.4:
        return ""
    pairs = []
    for _ in range(rng.randint(1, 4)):
        k = quote(rng.choice(QUERY_KEYS), safe="-_.~")
        v = quote(rng.choice(QUERY_VALUES), safe="-_.~")
        pairs.append(k if rng.random() < 0.1 else f"{k}={v}")
    if rng.random() < 0.2:  # a repeated key
        pairs.append(pairs[0])
    return "&".join(pairs)


def gen_body():
    r = rng.random()
    if r < 0.4:
        return b""
    if r < 0.8:
        return json.dumps({"ZipFile": "UEsDBA==", "Publish": False, "n": rng.randint(0, 1 << 30)}).encode()
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))


def main():
    for i in range(COUNT):
        service, s3 = rng.choice(SERVICES)
        region = rng.choice(REGIONS)
        scheme = rng.choice(["http", "https"])
        host = rng.choice(HOSTS)
        path = gen_path()
        query = gen_query()
        url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
        method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD", "get"])
        headers = []
        for _ in range(rng.randint(0, 5)):
            headers.append([rng.choice(HEADER_NAMES), rng.choice(HEADER_VALUES)])
        if rng.random() < 0.1:
            headers.append(["Host", host.split(":")[0] if rng.random() < 0.5 else host])
        body = gen_body()
        ts = 1700000000 + rng.randint(0, 400000000)
        token = "FwoGZXIvYXdzE" + "".join(rng.choice("abcdef0123456789/+=") for _ in range(40)) \
            if rng.random() < 0.3 else None
        access = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        secret = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+")
                         for _ in range(40))

        req = AWSRequest(method=method, url=url, data=body)
        for n, v in headers:
            req.headers[n] = v
        creds = Credentials(access, secret, token)
        signer = (botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth)(creds, service, region)
        when = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
        botocore.auth.get_current_datetime = lambda when=when: when
        recorded = {}
        original = signer.canonical_request
        signer.canonical_request = lambda r: recorded.setdefault("cr", original(r))
        signer.add_auth(req)
        added = {k.lower(): req.headers[k] for k in
                 ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"]
                 if k in req.headers}
        print(json.dumps({
            "id": i, "method": method, "url": url, "headers": headers, "body_hex": body.hex(),
            "service": service, "region": region, "s3": s3, "time": ts,
            "access_key": access, "secret_key": secret, "token": token or "",
            "expected": added,
            "canonical_request": recorded["cr"],
        }))


if __name__ == "__main__":
    main()
