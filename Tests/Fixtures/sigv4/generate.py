#!/usr/bin/env python3
"""Writes cases.json beside this file: S3 GET requests signed by botocore's S3SigV4Auth (the oracle imgedge's SigV4
signer is checked against byte for byte). Deterministic: the same botocore writes the same bytes.
Usage: python3 generate.py (botocore must be importable)."""
import datetime, json, os, urllib.parse
from unittest import mock

import botocore
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TIMES = [1765102500, 946684800, 1709210096]  # 2025-12-07 10:15:00, 2000-01-01, 2024-02-29 12:34:56 (UTC)
CASES = [
    # scheme, host, path (decoded), query pairs (decoded), extra headers, region, token
    ("https", "examplebucket.s3.amazonaws.com", "/test.txt", [], [], "us-east-1", None),
    ("https", "s3.eu-west-3.amazonaws.com", "/my-bucket/photos/cat.jpg", [], [("Range", "bytes=0-9")], "eu-west-3", None),
    ("http", "127.0.0.1:9000", "/bucket/a b/ü+x=y&z.jpg", [], [("If-None-Match", '"abc"')], "us-east-1", None),
    ("https", "bucket.s3.amazonaws.com", "/k~e_y-1.2", [("versionId", "3/L4kqtJl"), ("a", "b c")], [], "ap-south-1",
     "IQoJb3JpZ2luX2VjE//token+with/slashes="),
    ("https", "s3.amazonaws.com", "/b/%percent/and spaces  twice", [],
     [("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT"), ("X-Amz-Meta-Note", "  padded   value ")], "us-west-2", None),
]
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def sign(scheme, host, path, query, headers, region, token, time):
    url = f"{scheme}://{host}{urllib.parse.quote(path, safe='/~')}"
    if query:
        url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    request = AWSRequest(method="GET", url=url, headers=dict(headers))
    fixed = datetime.datetime.fromtimestamp(time, tz=datetime.timezone.utc)

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed.replace(tzinfo=None)

        @classmethod
        def now(cls, tz=None):
            return fixed if tz else fixed.replace(tzinfo=None)

    with mock.patch("botocore.auth.datetime.datetime", Frozen):
        S3SigV4Auth(Credentials(KEY, SECRET, token), "s3", region).add_auth(request)
    wanted = ["X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token", "Authorization"]
    return {name.lower(): request.headers[name] for name in wanted if name in request.headers}


cases = []
for i, (scheme, host, path, query, headers, region, token) in enumerate(CASES):
    time = TIMES[i % len(TIMES)]
    signed = sign(scheme, host, path, query, headers, region, token, time)
    cases.append({"host": host, "path": path, "query": query, "headers": headers, "region": region, "token": token,
                  "time": time, "payloadHash": signed["x-amz-content-sha256"], "signed": signed})
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")
with open(out, "w") as f:
    json.dump({"botocore": botocore.__version__, "accessKeyID": KEY, "secretAccessKey": SECRET, "cases": cases}, f,
              indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {len(cases)} cases signed by botocore {botocore.__version__} to {out}")
