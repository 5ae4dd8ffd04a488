/**
 * The change objects' store: the landing bucket (src/landing), under `<LANDING_PREFIX>changes/`.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listObjects } from '../landing/index.js';
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
      return (await listObjects(s3, bucket, prefix)).map((o) => o.key).sort();
    },
  };
}
