/**
 * The project's CLI before it reaches Temporal: strict arguments (times, bounds, stray words),
 * payload encryption on by default (the local stack's secrets found by itself, the missing
 * variables named elsewhere), and how a finished run is reported. Every check must happen before
 * connecting: TEMPORAL_ADDRESS points at a TCP listener that counts the connections it gets.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../scripts/stack.js';
import { main as cli } from '../src/cli/index.js';
import { finalProgress, progressLine, reportOutcome } from '../src/client.js';
import { parseCliTime } from '../src/cli/time.js';
import { LOCAL_SECRETS_FILE, resolveClientSettings, writeLocalStackInfo } from '../src/codec/index.js';
import { SYNC_WINDOW_HOURS_RANGE } from '../src/config/sync.js';
import { ConfigError } from '../src/shared/errors.js';
import type { SyncSummary } from '../src/shared/summary.js';

const KEY_VARS = [
  'PAYLOAD_ENCRYPTION',
  'PAYLOAD_ENCRYPTION_KEY',
  'PAYLOAD_ENCRYPTION_KEY_ID',
  'PAYLOAD_DECRYPTION_KEYS',
];

function summary(over: Partial<SyncSummary> = {}): SyncSummary {
  const t = () => ({ fetched: 1, inserted: 1, updated: 0, unchanged: 0, setAside: 0 });
  return {
    window: { from: '2026-11-20T05:00:00.000Z', to: '2026-11-21T05:00:00.000Z' },
    branchesRequested: 2,
    branchesSynced: 2,
    salespersonsSynced: 3,
    salespersonsShared: 0,
    pages: 5,
    counts: { branches: t(), salespersons: t(), sales: t() },
    unknownBranches: [],
    vanishedSalespersons: [],
    failedBranches: [],
    skippedBranches: [],
    pagingStops: [],
    notice: null,
    followUp: null,
    ...over,
  };
}

describe('the project CLI (before connecting to Temporal)', function () {
  this.timeout(30_000);
  let sentinel: Server;
  let connections = 0;
  let dir: string;
  let saved: NodeJS.ProcessEnv;
  const out: string[] = [];
  const log = console.log;
  const error = console.error;

  before(async () => {
    sentinel = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => sentinel.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => sentinel.close(() => resolve())));

  beforeEach(() => {
    saved = { ...process.env };
    dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
    for (const v of [...KEY_VARS, 'SYNC_BRANCHES', 'SYNC_WINDOW_HOURS', 'TEMPORAL_NAMESPACE'])
      delete process.env[v];
    const { port } = sentinel.address() as { port: number };
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
    process.env.DATA_DIR = dir;
    process.env.PAYLOAD_ENCRYPTION_KEY = randomBytes(32).toString('base64');
    connections = 0;
    out.length = 0;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    console.error = (...a: unknown[]) => void out.push(a.join(' '));
  });
  afterEach(() => {
    console.log = log;
    console.error = error;
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the CLI and asserts exit code 2, a message matching `message`, and no connection to Temporal. */
  async function refused(argv: string[], message: RegExp): Promise<void> {
    assert.equal(await cli(argv), 2, `${argv.join(' ')}\n${out.join('\n')}`);
    assert.match(out.join('\n'), message);
    assert.equal(connections, 0, `${argv.join(' ')} connected to Temporal before refusing`);
  }

  describe('times', () => {
    it('reads ISO 8601 with Z or an offset, and the vendor form as UTC whatever the local time zone', () => {
      const tz = process.env.TZ;
      process.env.TZ = 'Asia/Kolkata'; // +05:30: a local reading would be off by 5.5 hours
      try {
        const utc = (s: string) => parseCliTime(s)?.toISOString();
        assert.equal(utc('2026-11-20 05:00:00'), '2026-11-20T05:00:00.000Z');
        assert.equal(utc('2026-11-20T05:00:00Z'), '2026-11-20T05:00:00.000Z');
        assert.equal(utc('2026-11-20T05:00Z'), '2026-11-20T05:00:00.000Z');
        assert.equal(utc('2026-11-20T06:30:00+01:30'), '2026-11-20T05:00:00.000Z');
        assert.equal(utc('2026-11-20T00:00:00-0500'), '2026-11-20T05:00:00.000Z');
        assert.equal(utc('2026-11-20T05:00:00.25Z'), '2026-11-20T05:00:00.250Z');
        assert.equal(utc('2028-02-29T00:00:00Z'), '2028-02-29T00:00:00.000Z');
        for (const bad of [
          '2026-11-20T05:00:00', // no zone: would be local time
          '2026-11-20',
          'yesterday',
          '1763614800',
          '2026-02-30T00:00:00Z',
          '2026-13-01T00:00:00Z',
          '2026-11-20T24:00:00Z',
          '2026-11-20 05:00',
          '2026-11-20T05:00:00+25:00',
          'Fri, 20 Nov 2026 05:00:00 GMT',
        ])
          assert.equal(parseCliTime(bad), undefined, bad);
      } finally {
        if (tz === undefined) delete process.env.TZ;
        else process.env.TZ = tz;
      }
    });

    it('the CLI reads the vendor form as UTC and refuses a time without a zone, before connecting', async () => {
      const tz = process.env.TZ;
      process.env.TZ = 'Asia/Kolkata';
      try {
        // Backwards on purpose: the message shows how both times were read.
        await refused(
          ['schedule', 'backfill', '--from', '2026-11-20 05:00:00', '--to', '2026-11-20T04:00:00Z'],
          /--from \(2026-11-20T05:00:00\.000Z\) must be before --to \(2026-11-20T04:00:00\.000Z\)/,
        );
        await refused(
          ['run', '--window-end', '2026-11-20T05:00:00'],
          /--window-end=2026-11-20T05:00:00 is not a time: use ISO 8601 with Z or an offset/,
        );
        await refused(
          ['schedule', 'backfill', '--from', 'yesterday', '--to', '2026-11-20T04:00:00Z'],
          /--from=yesterday is not a time/,
        );
      } finally {
        if (tz === undefined) delete process.env.TZ;
        else process.env.TZ = tz;
      }
    });
  });

  it('--window-hours has the bounds of SYNC_WINDOW_HOURS', async () => {
    const { min, max } = SYNC_WINDOW_HOURS_RANGE;
    for (const bad of [String(max + 1), String(min - 1), '1.5', '-3', '24h', '1e3', ''])
      await refused(
        ['run', `--window-hours=${bad}`],
        new RegExp(
          `--window-hours=${bad.replace(/[.+]/g, '\\$&')} is not valid: expected a whole number from ${min} to ${max}`,
        ),
      );
    await refused(
      ['run', '--full', '--window-hours', '24'],
      /--full syncs every sale, so --window-hours cannot go with it/,
    );
    await refused(['schedule', 'create', '--every-minutes', '0'], /--every-minutes=0 is not valid/);
    await refused(['list', '--limit', 'ten'], /--limit=ten is not valid/);
    await refused(['run', '--branches', ' , '], /--branches is empty/);
  });

  it("stray words are an error (exit 2), with the command's usage", async () => {
    await refused(
      ['run', 'Akron'],
      /unexpected argument "Akron": `run` takes no words, only options[\s\S]*usage: npm run cli -- run/,
    );
    await refused(['list', '5'], /unexpected argument "5"/);
    await refused(['schedule', 'trigger', 'now', 'please'], /unexpected arguments "now" "please"/);
    await refused(['progress', 'a', 'b'], /unexpected argument "b": `progress` takes WORKFLOW_ID/);
    await refused(['progress'], /progress needs the workflow ID/);
    await refused(['run', '--branch', 'Akron'], /Unknown option '--branch'/);
  });

  describe('payload encryption', () => {
    it('a client without the key refuses to start anything, naming the missing variables (exit 2)', async () => {
      delete process.env.PAYLOAD_ENCRYPTION_KEY;
      for (const argv of [
        ['run', '--branches', 'Akron'],
        ['schedule', 'create'],
        ['schedule', 'trigger'],
        ['schedule', 'backfill', '--from', '2026-11-20T00:00:00Z', '--to', '2026-11-20T02:00:00Z'],
        ['list'],
      ])
        await refused(
          argv,
          /configuration error: payloads are encrypted by default, and this client has no key for the deployment at TEMPORAL_ADDRESS=127\.0\.0\.1:\d+: missing PAYLOAD_ENCRYPTION_KEY and PAYLOAD_ENCRYPTION_KEY_ID\..*PAYLOAD_ENCRYPTION=off/,
        );
      process.env.PAYLOAD_ENCRYPTION_KEY_ID = 'k2';
      await refused(['run'], /missing PAYLOAD_ENCRYPTION_KEY\. /);
    });

    it('PAYLOAD_ENCRYPTION must be on or off, and off with a key set is a contradiction', async () => {
      process.env.PAYLOAD_ENCRYPTION = 'no';
      await refused(['run'], /PAYLOAD_ENCRYPTION="no" is not valid: expected on \(the default\) or off/);
      process.env.PAYLOAD_ENCRYPTION = 'off';
      await refused(['run'], /PAYLOAD_ENCRYPTION=off but PAYLOAD_ENCRYPTION_KEY is set/);
      delete process.env.PAYLOAD_ENCRYPTION_KEY;
      assert.equal(resolveClientSettings(process.env).codec, undefined, 'explicitly off: no codec');
    });

    it('on the local stack (TEMPORAL_ADDRESS unset) the CLI uses the secrets and address npm start wrote', () => {
      delete process.env.PAYLOAD_ENCRYPTION_KEY;
      delete process.env.TEMPORAL_ADDRESS;
      assert.throws(
        () => resolveClientSettings(process.env),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message.includes(join(dir, LOCAL_SECRETS_FILE)) &&
          /does not exist\. Start the local stack first \(`npm start`/.test(err.message),
      );
      writeFileSync(
        join(dir, LOCAL_SECRETS_FILE),
        JSON.stringify({
          PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          PAYLOAD_ENCRYPTION_KEY_ID: 'local1',
          CODEC_SERVER_TOKEN: 'x'.repeat(32),
        }),
      );
      writeLocalStackInfo(dir, {
        temporalAddress: '127.0.0.1:17233',
        namespace: 'default',
        codecUrl: 'http://127.0.0.1:18888',
      });
      const s = resolveClientSettings(process.env);
      assert.equal(s.codec?.keyId, 'local1');
      assert.equal(s.overrides.TEMPORAL_ADDRESS, '127.0.0.1:17233');
      assert.match(s.source, /local stack/);
      // The same stack named explicitly is still the local stack.
      assert.equal(
        resolveClientSettings({ ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:17233' }).codec?.keyId,
        'local1',
      );
      // Another address is another deployment: the local key is not used for it.
      assert.throws(
        () => resolveClientSettings({ ...process.env, TEMPORAL_ADDRESS: 'prod.example:7233' }),
        /missing PAYLOAD_ENCRYPTION_KEY/,
      );
    });
  });

  describe('reporting a finished run', () => {
    it('a completed run that skipped branches (already running elsewhere) is not a success: exit 1, naming them', () => {
      const ok = reportOutcome('run-1', { ok: true, status: 'COMPLETED', summary: summary() });
      assert.equal(ok.code, 0);
      assert.match(ok.out.join('\n'), /run run-1 succeeded/);
      const skipped = reportOutcome('run-2', {
        ok: true,
        status: 'COMPLETED',
        summary: summary({ branchesSynced: 1, skippedBranches: ['Akron', 'Scranton'] }),
      });
      assert.equal(skipped.code, 1);
      const msg = skipped.err.join('\n');
      assert.match(msg, /did NOT sync 2 branch\(es\): Akron, Scranton/);
      assert.match(
        msg,
        /npm run cli -- run --branches Akron,Scranton --window-end 2026-11-21T05:00:00\.000Z/,
      );
      assert.doesNotMatch(skipped.out.join('\n'), /succeeded/);
    });

    it('a completed run whose summary cannot be decoded is still reported as succeeded; a failed run as failed', () => {
      const unreadable = reportOutcome('run-3', {
        ok: true,
        status: 'COMPLETED',
        unreadable: 'Unknown encoding: binary/encrypted',
      });
      assert.equal(unreadable.code, 0);
      assert.match(
        unreadable.err.join('\n'),
        /run run-3 succeeded, but its summary cannot be read here: Unknown encoding/,
      );
      const failed = reportOutcome('run-4', {
        ok: false,
        status: 'FAILED',
        error: '1 of 2 branches failed',
        summary: summary(),
      });
      assert.equal(failed.code, 1);
      assert.match(failed.err.join('\n'), /run run-4 FAILED \(FAILED\): 1 of 2 branches failed/);
    });

    it('the progress bar of a finished run ends at its totals', () => {
      const line = progressLine(
        finalProgress(summary({ branchesRequested: 3, branchesSynced: 2, unknownBranches: ['Nowhere'] })),
      );
      assert.match(line, /^\[#{30}\] 3\/3 branches .* \| done$/);
    });
  });

  it('npm start pointed at another deployment without the key refuses before starting anything (exit 2)', async () => {
    delete process.env.PAYLOAD_ENCRYPTION_KEY;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--once'], {
      cwd: ROOT,
      env: { ...process.env, SIM_PORT: '0', DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2, text);
    assert.match(
      text,
      /configuration error: TEMPORAL_ADDRESS=127\.0\.0\.1:\d+ is set, so the schedule and runs go to that deployment, and payloads are encrypted by default: set PAYLOAD_ENCRYPTION_KEY and PAYLOAD_ENCRYPTION_KEY_ID/,
    );
    assert.doesNotMatch(text, /vendor simulator/, 'nothing was started');
    assert.equal(connections, 0);
  });
});
