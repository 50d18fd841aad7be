// Unmodified AWS SDK v3 clients against a Stillframe endpoint; prints one JSON document on stdout.
//   node kvs_calls.mjs describe <stream>
//   node kvs_calls.mjs images <stream> <start epoch s> <end epoch s> <interval ms>
//   node kvs_calls.mjs clip <stream> <start epoch s> <end epoch s> <out file>
// Endpoint, region and credentials come from the environment (ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY); certificates from NODE_EXTRA_CA_CERTS, as for any Node program.
import { DescribeStreamCommand, KinesisVideoClient } from "@aws-sdk/client-kinesis-video";
import { writeFile } from "node:fs/promises";
import {
  GetClipCommand,
  KinesisVideoArchivedMediaClient,
  paginateGetImages,
} from "@aws-sdk/client-kinesis-video-archived-media";

const endpoint = process.env.ENDPOINT;
const [command, stream, ...rest] = process.argv.slice(2);

async function describe() {
  const client = new KinesisVideoClient({ endpoint });
  const answer = await client.send(new DescribeStreamCommand({ StreamName: stream }));
  return { StreamInfo: answer.StreamInfo };
}

async function images() {
  const [start, end, interval] = rest.map(Number);
  const client = new KinesisVideoArchivedMediaClient({ endpoint });
  const input = {
    StreamName: stream,
    ImageSelectorType: "PRODUCER_TIMESTAMP",
    StartTimestamp: new Date(start * 1000),
    EndTimestamp: new Date(end * 1000),
    SamplingInterval: interval,
    Format: "JPEG",
    MaxResults: 4,
  };
  const found = [];
  let pages = 0;
  for await (const page of paginateGetImages({ client }, input)) {
    pages += 1;
    for (const image of page.Images ?? []) {
      found.push({
        TimeStamp: image.TimeStamp.getTime() / 1000,
        Error: image.Error ?? null,
        ImageContent: image.ImageContent ?? null,
      });
    }
  }
  return { Pages: pages, Images: found };
}

async function clip() {
  const [start, end, out] = rest;
  const client = new KinesisVideoArchivedMediaClient({ endpoint });
  const answer = await client.send(
    new GetClipCommand({
      StreamName: stream,
      ClipFragmentSelector: {
        FragmentSelectorType: "PRODUCER_TIMESTAMP",
        TimestampRange: { StartTimestamp: new Date(Number(start) * 1000), EndTimestamp: new Date(Number(end) * 1000) },
      },
    }),
  );
  const bytes = await answer.Payload.transformToByteArray();
  await writeFile(out, bytes);
  return { ContentType: answer.ContentType, Bytes: bytes.length };
}

const COMMANDS = { describe, images, clip };

try {
  const result = await COMMANDS[command]();
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (error) {
  process.stdout.write(JSON.stringify({ ErrorName: error.name, Message: error.message }) + "\n");
  process.exitCode = 3;
}
