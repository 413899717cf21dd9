#!/usr/bin/env python3
"""A real S3 API on loopback for the S3 source tests: moto's server, with SigV4 checked on every call after the set-up
(INITIAL_NO_AUTH_ACTION_COUNT), an IAM user allowed s3:* and its access key, a bucket, and the given files put as
objects under their base names (and under photos/<name>). Prints one JSON line — port, accessKeyId,
secretAccessKey — and serves until its standard input closes.
Usage: moto_s3.py BUCKET FILE..."""
import json, os, sys

bucket, files = sys.argv[1], sys.argv[2:]
# The set-up's calls: create user, put its policy, create its key, create the bucket, two puts per file.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(4 + 2 * len(files))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "setup")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "setup")
import logging  # noqa: E402

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
_, port = server.get_host_and_port()
endpoint = f"http://127.0.0.1:{port}"
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
iam.create_user(UserName="imgedge")
iam.put_user_policy(UserName="imgedge", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="imgedge")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
for path in files:
    body = open(path, "rb").read()
    name = os.path.basename(path)
    s3.put_object(Bucket=bucket, Key=name, Body=body, ContentType="image/jpeg")
    s3.put_object(Bucket=bucket, Key="photos/" + name, Body=body, ContentType="image/jpeg")
print(json.dumps({"port": port, "accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}), flush=True)
sys.stdin.read()
server.stop()
