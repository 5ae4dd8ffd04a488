/**
 * The change objects' store: the landing bucket (src/landing), under `<LANDING_PREFIX>changes/`.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ChangeObjectStore } from './objects.js';

/** A ChangeObjectStore on one bucket. Keys are full keys (the prefix included). */
export function s3ObjectStore(s3: S3Client, bucket: string): ChangeObjectStore {
  return {
    where: `s3://${bucket}/`,
    async put(key, body) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'application/x-ndjson',
          ContentEncoding: 'gzip',
        }),
      );
    },
    async get(key) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!out.Body) throw new Error(`s3://${bucket}/${key} has no body`);
      return Buffer.from(await out.Body.transformToByteArray());
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out: ListObjectsV2CommandOutput = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = out.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
  };
}
