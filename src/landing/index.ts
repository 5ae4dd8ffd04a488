/**
 * The raw landing zone: every vendor answer, kept as received in an S3 bucket before anything
 * reads it, so a run can be replayed without the vendor (a validation rule fixed, a table
 * restored or recreated). One gzip JSON object per answer (document.ts, written by encode.ts),
 * under a key of its own (keys.ts):
 *
 *   <prefix>raw/<path>/<window scope>/<run>/<request digest>-<caller run>-<activity>-<attempt>.json.gz
 *
 * A replay reads, per request, the answer its run used (used.ts). The API key is never in an
 * object: it travels in a header the landing zone does not keep.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LandingConfig } from '../config/landing.js';
import { SyncError } from '../shared/errors.js';
import type { VendorAnswer, VendorPath, VendorRequest } from '../vendor-api/client.js';
import { createS3Client, listObjects } from './bucket.js';
import {
  type AnswerCaller,
  type LandedAnswer,
  type LandedDocument,
  type LandedRun,
  toAnswer,
} from './document.js';
import { encodeDocument } from './encode.js';
import { answerKey, digestOfKey, requestPrefix, runFolder } from './keys.js';
import { type Landed, usedAnswer } from './used.js';

export { checkLandingBucket, createS3Client, ensureLandingBucket, listObjects } from './bucket.js';
export type { BucketReport } from './bucket.js';
export type { AnswerCaller, LandedAnswer, LandedDocument, LandedRun } from './document.js';
export { requestDigest } from './keys.js';

const gunzipAsync = promisify(gunzip);

/** Raised when the landing zone cannot serve a replay: retrying cannot help. */
export class NotLandedError extends SyncError {}

/** The landing zone on one bucket and prefix. */
export class Landing {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  /** The landing zone of a configuration, with its own S3 client. */
  static fromConfig(cfg: LandingConfig): Landing {
    return new Landing(createS3Client(cfg), cfg.bucket, cfg.prefix);
  }

  /** The key of an answer. */
  keyOf(req: VendorRequest, run: LandedRun, caller: AnswerCaller): string {
    return answerKey(this.prefix, req, run, caller);
  }

  /** Lands one answer and returns its key. Throws when the store did not take it: nothing is used unlanded. */
  async land(
    answer: VendorAnswer,
    run: LandedRun,
    window: LandedDocument['window'],
    caller: AnswerCaller,
    signal?: AbortSignal,
  ): Promise<{ key: string; bytes: number }> {
    const key = this.keyOf(answer.request, run, caller);
    const body = await encodeDocument(answer, run, window, caller);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ContentEncoding: 'gzip',
        Metadata: { status: String(answer.status), 'fetched-at': answer.fetchedAt },
      }),
      { abortSignal: signal },
    );
    return { key, bytes: body.length };
  }

  /** Reads one landed object. */
  async read(key: string, signal?: AbortSignal): Promise<LandedDocument> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      abortSignal: signal,
    });
    const bytes = await out.Body?.transformToByteArray();
    if (!bytes) throw new NotLandedError(`landed object ${key} has no body`);
    const doc = JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as LandedDocument;
    if (doc.format !== 'vendor-answer/1')
      throw new NotLandedError(`landed object ${key} is not a vendor answer (format ${String(doc.format)})`);
    return doc;
  }

  /** Every key under `prefix` (relative to the landing prefix), in key order. */
  async keys(under: string, signal?: AbortSignal): Promise<{ key: string; size: number }[]> {
    return listObjects(this.s3, this.bucket, `${this.prefix}${under}`, signal);
  }

  /**
   * The answer `run` used for `req` (the newest it acted on, see used.ts), or null when none
   * landed. Objects of both key layouts are read.
   */
  async latest(req: VendorRequest, run: LandedRun, signal?: AbortSignal): Promise<LandedAnswer | null> {
    const landed: Landed[] = [];
    for (const { key } of await this.keys(requestPrefix('', req, run), signal))
      landed.push({ key, doc: await this.read(key, signal) });
    const used = usedAnswer(landed);
    return used ? toAnswer(used.doc, used.key) : null;
  }

  /** True when `run` landed any answer to `req` (then `latest` finds one): a listing, no answer read. */
  async has(req: VendorRequest, run: LandedRun, signal?: AbortSignal): Promise<boolean> {
    return (await this.keys(requestPrefix('', req, run), signal)).length > 0;
  }

  /** The requests landed for `path` in `run` (one per request, whatever the attempts and calls). */
  async requestsOf(path: VendorPath, run: LandedRun, signal?: AbortSignal): Promise<VendorRequest[]> {
    const byDigest = new Map<string, string>();
    for (const { key } of await this.keys(runFolder('', path, run), signal)) {
      const digest = digestOfKey(key);
      if (!byDigest.has(digest)) byDigest.set(digest, key);
    }
    const out: VendorRequest[] = [];
    for (const key of byDigest.values()) out.push((await this.read(key, signal)).request);
    return out;
  }

  /** The parent workflow IDs whose answers landed under a window scope. */
  async runsOf(scope: string, signal?: AbortSignal): Promise<string[]> {
    const out = await this.s3.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: `${this.prefix}raw/branches/${scope}/`,
        Delimiter: '/',
      }),
      { abortSignal: signal },
    );
    return (out.CommonPrefixes ?? [])
      .map((p) => p.Prefix?.split('/').at(-2))
      .filter((p): p is string => Boolean(p))
      .map((p) => decodeURIComponent(p));
  }
}
