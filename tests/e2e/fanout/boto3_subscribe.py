"""boto3's subscribe_to_shard against the emulator (driven by tests/e2e/fanout/clients.rs).

Usage: boto3_subscribe.py ENDPOINT CONSUMER_ARN

The stream `orders` holds records r0 and r1 when this starts. It subscribes from TRIM_HORIZON,
reads until both arrived, puts r2 and r3 with boto3 and reads until they arrived too, then
checks that a second subscription is refused with ResourceInUseException. It prints one JSON
object: the record data in arrival order, every event's continuation, and the second
subscription's error code.
"""

import json
import sys

import boto3
from botocore.config import Config


def main():
    endpoint, consumer_arn = sys.argv[1], sys.argv[2]
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="SECRETTEST",
        config=Config(retries={"max_attempts": 1}, read_timeout=20, connect_timeout=5),
    )
    answer = client.subscribe_to_shard(
        ConsumerARN=consumer_arn,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "TRIM_HORIZON"},
    )
    received, continuations = [], []
    put = False
    for event in answer["EventStream"]:
        shard_event = event["SubscribeToShardEvent"]
        continuations.append(shard_event["ContinuationSequenceNumber"])
        received.extend(r["Data"].decode() for r in shard_event["Records"])
        if len(received) >= 2 and not put:
            for data in ("r2", "r3"):
                client.put_record(StreamName="orders", PartitionKey="k", Data=data.encode())
            put = True
        if len(received) >= 4:
            break
    answer["EventStream"].close()
    try:
        client.subscribe_to_shard(
            ConsumerARN=consumer_arn,
            ShardId="shardId-000000000000",
            StartingPosition={"Type": "LATEST"},
        )
        second = "<succeeded>"
    except client.exceptions.ResourceInUseException as error:
        second = error.response["Error"]["Code"]
    print(json.dumps({"received": received, "continuations": continuations, "second": second}))


if __name__ == "__main__":
    main()
