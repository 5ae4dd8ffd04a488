/** Settings are validated at start, with a message that names the variable and the expected form. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../scripts/stack.js';
import { loadFeedConfig } from '../src/config/feed.js';
import { loadConfig } from '../src/config/index.js';
import { loadLocalStackConfig } from '../src/config/local-stack.js';
import { loadTemporalConfig } from '../src/config/temporal.js';
import { DEFAULT_VOID_GUARD_PERCENT, DEFAULT_WATERMARK_OVERLAP_MINUTES } from '../src/shared/completeness.js';
import { ConfigError } from '../src/shared/errors.js';

const base = { VENDOR_API_URL: 'http://127.0.0.1:8080', VENDOR_API_KEY: 'k-123', LANDING_BUCKET: 'landing' };

describe('configuration', () => {
  it('has working defaults for everything but the vendor', () => {
    const c = loadConfig(base);
    assert.equal(c.temporal.address, '127.0.0.1:7233');
    assert.equal(c.vendor.quotaRps, 20);
    assert.equal(c.vendor.rateLimitRps, 18, 'the task queue keeps 10% below the quota');
    assert.equal(loadConfig({ ...base, VENDOR_QUOTA_HEADROOM_PERCENT: '0' }).vendor.rateLimitRps, 20);
    assert.equal(c.sync.branches.length, 13);
    assert.equal(c.dynamo.tablePrefix, 'sales-sync-');
    assert.equal(c.notify.setAsideThreshold, 10);
    assert.deepEqual(c.landing, {
      bucket: 'landing',
      prefix: '',
      endpoint: undefined,
      region: 'us-east-1',
      retentionDays: 90,
    });
    assert.equal(loadConfig({ ...base, LANDING_BUCKET: '', LANDING: 'off' }).landing, null);
    assert.deepEqual(c.metrics, { port: 9464, bind: '0.0.0.0' });
    assert.equal(c.vendor.maxAnswerBytes, 4 * 1024 * 1024);
    assert.equal(
      loadConfig({ ...base, VENDOR_MAX_ANSWER_BYTES: '33554432' }).vendor.maxAnswerBytes,
      32 * 1024 * 1024,
    );
  });

  it('reads whether the scheduled reconcile repairs (RECONCILE_REPAIR, default on) with the shared parser', () => {
    assert.equal(loadFeedConfig({}).reconcileRepair, true);
    assert.equal(loadFeedConfig({ RECONCILE_REPAIR: 'off' }).reconcileRepair, false);
    assert.equal(loadFeedConfig({ RECONCILE_REPAIR: 'false' }).reconcileRepair, false);
    assert.equal(loadFeedConfig({ RECONCILE_REPAIR: 'on' }).reconcileRepair, true);
    assert.throws(
      () => loadFeedConfig({ RECONCILE_REPAIR: 'maybe' }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /RECONCILE_REPAIR="maybe" is not valid/);
        return true;
      },
    );
  });

  it('reads the metrics endpoint: a port, 0 for a free one, off for none; an IP address to bind', () => {
    const m = (env: Record<string, string>) => loadConfig({ ...base, ...env }).metrics;
    assert.deepEqual(m({ METRICS_PORT: '0', METRICS_BIND: '127.0.0.1' }), { port: 0, bind: '127.0.0.1' });
    assert.deepEqual(m({ METRICS_PORT: '9100', METRICS_BIND: '::' }), { port: 9100, bind: '::' });
    assert.equal(m({ METRICS_PORT: 'off' }), null);
  });

  it('reads the sweeps, the watermark overlap, the void guard and the void alert threshold', () => {
    const c = loadConfig(base);
    assert.equal(c.sync.watermarkOverlapMinutes, DEFAULT_WATERMARK_OVERLAP_MINUTES);
    assert.equal(c.sync.voidGuardPercent, DEFAULT_VOID_GUARD_PERCENT);
    assert.deepEqual(c.sweeps, { lookbackDays: 7, lookbackEveryHours: 24, fullEveryDays: 7 });
    assert.equal(c.voidAlertThreshold, 100);
    const d = loadConfig({
      ...base,
      SWEEP_LOOKBACK_DAYS: '0',
      SWEEP_LOOKBACK_EVERY_HOURS: '6',
      SWEEP_FULL_EVERY_DAYS: '0',
      WATERMARK_OVERLAP_MINUTES: '15',
      VOID_GUARD_PERCENT: '100',
      VOID_ALERT_THRESHOLD: '5',
    });
    assert.deepEqual(d.sweeps, { lookbackDays: 0, lookbackEveryHours: 6, fullEveryDays: 0 });
    assert.equal(d.sync.watermarkOverlapMinutes, 15);
    assert.equal(d.sync.voidGuardPercent, 100);
    assert.equal(d.voidAlertThreshold, 5);
    assert.equal(loadConfig({ ...base, VOID_GUARD_PERCENT: '0' }).sync.voidGuardPercent, 0);
    assert.equal(loadConfig({ ...base, SWEEP_LOOKBACK_DAYS: '366' }).sweeps.lookbackDays, 366);
  });

  it('a worker whose metrics port is taken stops at start and says what to do', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...base,
          TEMPORAL_ADDRESS: '127.0.0.1:1',
          METRICS_PORT: String(port),
          METRICS_BIND: '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 2, text);
      assert.match(
        text,
        new RegExp(
          `configuration error: the metrics endpoint cannot listen on 127\\.0\\.0\\.1:${port} \\(METRICS_BIND, METRICS_PORT\\): .*Address already in use.*Each worker on a machine needs its own METRICS_PORT \\(0: a free port; off: no endpoint\\)`,
        ),
      );
    } finally {
      busy.close();
    }
  });

  it('every entry point stops with exit code 2 and "configuration error: ..." on a bad setting (1 is for failures)', async () => {
    const entries: [string, string[], Record<string, string>, RegExp][] = [
      ['npm run worker', ['src/worker.ts'], { ...base, VENDOR_QUOTA_RPS: 'fast' }, /VENDOR_QUOTA_RPS="fast"/],
      ['npm run feed', ['src/feed/service.ts'], { DATABASE_URL: '' }, /DATABASE_URL is not set/],
      ['npm run cli', ['src/cli/main.ts', 'run', '--window-end', 'soon'], {}, /--window-end/],
      ['npm start', ['scripts/start.ts', '--bogus'], {}, /Unknown option '--bogus'/],
      [
        'npm run codec-server',
        ['src/codec/server.ts'],
        { PAYLOAD_ENCRYPTION_KEY: '' },
        /PAYLOAD_ENCRYPTION_KEY is not set/,
      ],
    ];
    for (const [name, args, env, said] of entries) {
      const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
        cwd: ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', METRICS_PORT: 'off', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 2, `${name}: ${err}`);
      assert.match(err, /^(configuration error|error|--window-end)/, name);
      assert.doesNotMatch(err, /\n\s+at /, `${name}: no stack for a mistake to fix`);
      assert.match(err, said, name);
    }
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ VENDOR_API_URL: '' }, /VENDOR_API_URL is not set/],
    [{ VENDOR_API_URL: 'ftp://x' }, /VENDOR_API_URL="ftp:\/\/x" is not valid: expected an http\(s\) URL/],
    [{ VENDOR_API_KEY: '' }, /VENDOR_API_KEY is not set/],
    [{ LANDING_BUCKET: '' }, /LANDING_BUCKET is not set: every vendor answer is kept .* or LANDING=off/],
    [{ LANDING_BUCKET: 'Bad_Bucket' }, /LANDING_BUCKET="Bad_Bucket" is not a valid bucket name/],
    [{ LANDING_PREFIX: '/x' }, /LANDING_PREFIX="\/x" is not valid: expected a key prefix ending in \//],
    [{ LANDING: 'maybe' }, /LANDING="maybe" is not valid: expected on or off/],
    [{ S3_ACCESS_KEY_ID: 'a' }, /Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither/],
    [
      { LANDING_RETENTION_DAYS: '0' },
      /LANDING_RETENTION_DAYS="0" is not valid: expected an integer from 1 to 36500/,
    ],
    [{ VENDOR_QUOTA_RPS: '-3' }, /VENDOR_QUOTA_RPS="-3" is not valid: expected a number greater than 0/],
    [
      { VENDOR_QUOTA_HEADROOM_PERCENT: '80' },
      /VENDOR_QUOTA_HEADROOM_PERCENT="80" is not valid: expected an integer from 0 to 50/,
    ],
    [{ VENDOR_PAGE_SIZE: '501' }, /VENDOR_PAGE_SIZE="501" is not valid: expected an integer from 1 to 500/],
    [{ VENDOR_TIMEOUT_MS: 'soon' }, /VENDOR_TIMEOUT_MS="soon"/],
    [
      { VENDOR_MAX_ANSWER_BYTES: '33554433' },
      /VENDOR_MAX_ANSWER_BYTES="33554433" is not valid: expected an integer from 1048576 to 33554432/,
    ],
    [{ VENDOR_MAX_ANSWER_BYTES: '32MiB' }, /VENDOR_MAX_ANSWER_BYTES="32MiB" is not valid/],
    [
      { VENDOR_TIMEOUT_MS: '50000' },
      /VENDOR_TIMEOUT_MS=50000 is too long: an activity attempt has 60 s for the request and the writes of its page, so the request may take at most 40000 ms/,
    ],
    [
      { VENDOR_API_URL: 'http://vendor.example.com' },
      /VENDOR_API_URL=http:\/\/vendor.example.com is plain http to a host other than loopback.*VENDOR_ALLOW_INSECURE_HTTP=true/,
    ],
    [{ SYNC_BRANCHES: ' , ' }, /SYNC_BRANCHES is empty/],
    [
      { WORKER_LOG_LEVEL: 'loud' },
      /WORKER_LOG_LEVEL="loud" is not valid: expected one of TRACE, DEBUG, INFO, WARN, ERROR/,
    ],
    [{ TEMPORAL_TLS: 'maybe' }, /TEMPORAL_TLS="maybe" is not valid: expected true or false/],
    [
      { TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' },
      /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/,
    ],
    [
      {
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/c.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/k.pem',
      },
      /TEMPORAL_TLS_CLIENT_CERT_PATH=\/nonexistent\/c.pem cannot be read \(ENOENT\)/,
    ],
    [
      { SWEEP_LOOKBACK_DAYS: '367' },
      /SWEEP_LOOKBACK_DAYS="367" is not valid: expected an integer from 0 to 366/,
    ],
    [{ SWEEP_LOOKBACK_DAYS: 'week' }, /SWEEP_LOOKBACK_DAYS="week" is not valid: expected an integer/],
    [
      { SWEEP_LOOKBACK_EVERY_HOURS: '0' },
      /SWEEP_LOOKBACK_EVERY_HOURS="0" is not valid: expected an integer from 1 to 168/,
    ],
    [{ SWEEP_FULL_EVERY_DAYS: '-1' }, /SWEEP_FULL_EVERY_DAYS="-1" is not valid: expected an integer from 0/],
    [
      { WATERMARK_OVERLAP_MINUTES: '1.5' },
      /WATERMARK_OVERLAP_MINUTES="1.5" is not valid: expected an integer from 0 to 1440/,
    ],
    [
      { VOID_GUARD_PERCENT: '101' },
      /VOID_GUARD_PERCENT="101" is not valid: expected an integer from 0 to 100/,
    ],
    [{ VOID_ALERT_THRESHOLD: '0' }, /VOID_ALERT_THRESHOLD="0" is not valid: expected an integer from 1/],
    [{ METRICS_PORT: 'none' }, /METRICS_PORT="none" is not valid: expected an integer from 0 to 65535/],
    [{ METRICS_BIND: 'localhost' }, /METRICS_BIND="localhost" is not valid: expected an IP address/],
    [{ NOTIFY_WEBHOOK_URL: 'hooks.slack.com/x' }, /NOTIFY_WEBHOOK_URL=.* expected an http\(s\) URL/],
    [{ NOTIFY_SNS_TOPIC_ARN: 'alerts' }, /NOTIFY_SNS_TOPIC_ARN="alerts" is not valid: expected a topic ARN/],
    [
      { VENDOR_API_KEY_FILE: '/nonexistent/key' },
      /VENDOR_API_KEY_FILE=\/nonexistent\/key cannot be read \(ENOENT\)/,
    ],
  ];
  for (const [env, message] of bad) {
    it(`rejects ${Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ')}`, () => {
      assert.throws(
        () => loadConfig({ ...base, ...env }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }

  it('takes plain http to another host only when told to, and https or loopback always', () => {
    const insecure = { ...base, VENDOR_API_URL: 'http://vendor.example.com' };
    assert.equal(
      loadConfig({ ...insecure, VENDOR_ALLOW_INSECURE_HTTP: 'true' }).vendor.allowInsecureHttp,
      true,
    );
    assert.doesNotThrow(() => loadConfig({ ...base, VENDOR_API_URL: 'https://vendor.example.com' }));
    assert.doesNotThrow(() => loadConfig({ ...base, VENDOR_API_URL: 'http://localhost:8080' }));
  });

  it("reads Temporal's standard variables and temporal.toml profiles (@temporalio/envconfig)", () => {
    const cloud = loadConfig({
      ...base,
      TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'acme.a1b2c',
      TEMPORAL_API_KEY: 'cloud-key',
    }).temporal;
    assert.equal(cloud.address, 'acme.a1b2c.tmprl.cloud:7233');
    assert.equal(cloud.namespace, 'acme.a1b2c');
    assert.equal(cloud.connection.apiKey, 'cloud-key');
    assert.ok(cloud.connection.tls, 'an API key implies TLS');

    const dir = mkdtempSync(join(tmpdir(), 'temporal-toml-'));
    const toml = join(dir, 'temporal.toml');
    writeFileSync(
      toml,
      '[profile.prod]\naddress = "temporal.internal:7233"\nnamespace = "sales"\n[profile.prod.tls]\ndisabled = false\n',
    );
    const prod = loadConfig({ ...base, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }).temporal;
    assert.equal(prod.address, 'temporal.internal:7233');
    assert.equal(prod.namespace, 'sales');
    assert.ok(prod.connection.tls);
  });

  it('still reads the old TLS names, with a deprecation message naming the standard ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pem-'));
    for (const f of ['c.pem', 'k.pem']) writeFileSync(join(dir, f), 'pem');
    const warnings: string[] = [];
    const t = loadTemporalConfig(
      { TEMPORAL_TLS_CERT_PATH: join(dir, 'c.pem'), TEMPORAL_TLS_KEY_PATH: join(dir, 'k.pem') },
      (m) => warnings.push(m),
    );
    assert.ok(t.connection.tls && typeof t.connection.tls === 'object' && t.connection.tls.clientCertPair);
    assert.deepEqual(warnings, [
      "TEMPORAL_TLS_CERT_PATH is deprecated: rename it to TEMPORAL_TLS_CLIENT_CERT_PATH (Temporal's standard name, also read by the Temporal CLI).",
      "TEMPORAL_TLS_KEY_PATH is deprecated: rename it to TEMPORAL_TLS_CLIENT_KEY_PATH (Temporal's standard name, also read by the Temporal CLI).",
    ]);
  });

  it('reads the local stack with the same parsers: ports, the simulator size, the quota', () => {
    const d = loadLocalStackConfig({});
    assert.deepEqual(d.ports, { temporal: 7233, ui: 8233, dynamo: 8000, sim: 8080, objects: 7070 });
    assert.deepEqual(d.local, { temporal: true, dynamo: true, vendor: true, objects: true });
    assert.equal(
      loadLocalStackConfig({ SIM_PORT: '0' }).ports.sim,
      0,
      'SIM_PORT=0 picks a free port, as for npm run sim',
    );
    assert.equal(loadLocalStackConfig({ TEMPORAL_ADDRESS: 'x:7233' }).local.temporal, false);
    for (const [env, message] of [
      [
        { VENDOR_QUOTA_RPS: 'fast' },
        /VENDOR_QUOTA_RPS="fast" is not valid: expected a number greater than 0/,
      ],
      [{ TEMPORAL_PORT: '0' }, /TEMPORAL_PORT="0" is not valid: expected an integer from 1 to 65535/],
      [{ SIM_PORT: '70000' }, /SIM_PORT="70000" is not valid: expected an integer from 0 to 65535/],
      [{ SIM_BRANCHES: '1e3' }, /SIM_BRANCHES="1e3" is not valid/],
    ] as const) {
      assert.throws(
        () => loadLocalStackConfig(env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    }
  });

  it('reads the vendor key from a file (as a secrets store mounts it), and never puts it in a message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'key-'));
    writeFileSync(join(dir, 'key'), 'file-secret-9\n');
    assert.equal(
      loadConfig({ ...base, VENDOR_API_KEY: '', VENDOR_API_KEY_FILE: join(dir, 'key') }).vendor.apiKey,
      'file-secret-9',
    );
    writeFileSync(join(dir, 'empty'), '\n');
    assert.throws(
      () => loadConfig({ ...base, VENDOR_API_KEY_FILE: join(dir, 'empty') }),
      (err: unknown) => err instanceof ConfigError && /is empty/.test(err.message),
    );
  });
});
