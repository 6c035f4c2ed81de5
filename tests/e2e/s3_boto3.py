"""boto3 against Riffle's S3: what a user's script does with a delivery bucket.

Usage: s3_boto3.py ENDPOINT. Prints one JSON object describing what it saw; the Rust test
checks it (and the objects, through its own client)."""
import hashlib
import io
import json
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="AKID",
    aws_secret_access_key="secret",
    config=Config(retries={"max_attempts": 1}),
)


def code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


seen = {}
s3.create_bucket(Bucket="boto-bucket")
s3.put_object(Bucket="boto-bucket", Key="a/one.json", Body=b'{"n":1}\n', ContentType="application/json")
big = bytes((i * 7919) % 256 for i in range(12 * 1024 * 1024))
config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
s3.upload_fileobj(io.BytesIO(big), "boto-bucket", "b/big.bin", Config=config)
head = s3.head_object(Bucket="boto-bucket", Key="b/big.bin")
seen["big_length"] = head["ContentLength"]
seen["big_etag"] = head["ETag"]
out = io.BytesIO()
s3.download_fileobj("boto-bucket", "b/big.bin", out, Config=config)
seen["big_round_trip"] = hashlib.md5(out.getvalue()).hexdigest() == hashlib.md5(big).hexdigest()
got = s3.get_object(Bucket="boto-bucket", Key="a/one.json", Range="bytes=1-3")
seen["range"] = got["Body"].read().decode()
seen["content_type"] = s3.get_object(Bucket="boto-bucket", Key="a/one.json")["ContentType"]
for n in range(7):
    s3.put_object(Bucket="boto-bucket", Key=f"c/key {n}+x", Body=b"v")
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="boto-bucket", Prefix="c/", PaginationConfig={"PageSize": 3}):
    keys.extend(o["Key"] for o in page.get("Contents", []))
seen["paged_keys"] = keys
top = s3.list_objects_v2(Bucket="boto-bucket", Delimiter="/")
seen["prefixes"] = [p["Prefix"] for p in top.get("CommonPrefixes", [])]
s3.copy_object(Bucket="boto-bucket", Key="copy.json", CopySource={"Bucket": "boto-bucket", "Key": "a/one.json"})
seen["copy"] = s3.get_object(Bucket="boto-bucket", Key="copy.json")["Body"].read().decode()
deleted = s3.delete_objects(Bucket="boto-bucket", Delete={"Objects": [{"Key": k} for k in keys]})
seen["deleted"] = len(deleted.get("Deleted", []))
seen["no_such_key"] = code(lambda: s3.get_object(Bucket="boto-bucket", Key="nope"))
seen["no_such_bucket"] = code(lambda: s3.list_objects_v2(Bucket="no-such-bucket"))
seen["not_empty"] = code(lambda: s3.delete_bucket(Bucket="boto-bucket"))
seen["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
print(json.dumps(seen))
