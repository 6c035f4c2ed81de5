// The AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis) against the emulator, driven by
// tests/e2e/fanout/clients.rs. Its Kinesis client speaks HTTP/2 for every operation; against
// an http:// endpoint that is h2c with prior knowledge.
//
// Usage: node js_subscribe.cjs ENDPOINT CONSUMER_ARN (NODE_PATH names the node_modules holding
// @aws-sdk/client-kinesis). Same steps and output as boto3_subscribe.py.
"use strict";

const {
  KinesisClient,
  PutRecordCommand,
  SubscribeToShardCommand,
} = require("@aws-sdk/client-kinesis");

async function main() {
  const [endpoint, consumerArn] = process.argv.slice(2);
  const client = new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "SECRETTEST" },
    maxAttempts: 1,
  });
  const subscribe = (type) =>
    client.send(
      new SubscribeToShardCommand({
        ConsumerARN: consumerArn,
        ShardId: "shardId-000000000000",
        StartingPosition: { Type: type },
      }),
    );
  const answer = await subscribe("TRIM_HORIZON");
  const received = [];
  const continuations = [];
  let put = false;
  for await (const event of answer.EventStream) {
    const shardEvent = event.SubscribeToShardEvent;
    if (!shardEvent) throw new Error(`unexpected event ${JSON.stringify(event)}`);
    continuations.push(shardEvent.ContinuationSequenceNumber);
    for (const record of shardEvent.Records) received.push(Buffer.from(record.Data).toString());
    if (received.length >= 2 && !put) {
      for (const data of ["r2", "r3"]) {
        await client.send(
          new PutRecordCommand({ StreamName: "orders", PartitionKey: "k", Data: Buffer.from(data) }),
        );
      }
      put = true;
    }
    if (received.length >= 4) break;
  }
  let second = "<succeeded>";
  try {
    await subscribe("LATEST");
  } catch (error) {
    second = error.name;
  }
  console.log(JSON.stringify({ received, continuations, second }));
  // Leaving the event loop does not cancel the HTTP/2 streams (the SDK sends GOAWAY and waits
  // for them, as it would against AWS), so exit instead of waiting up to five minutes.
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
