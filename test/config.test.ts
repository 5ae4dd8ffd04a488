/** Settings are validated at start, with a message that names the variable and the expected form. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/shared/config.js';
import { ConfigError } from '../src/shared/errors.js';

const base = { VENDOR_API_URL: 'http://127.0.0.1:8080', VENDOR_API_KEY: 'k-123' };

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
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ VENDOR_API_URL: '' }, /VENDOR_API_URL is not set/],
    [{ VENDOR_API_URL: 'ftp://x' }, /VENDOR_API_URL="ftp:\/\/x" is not valid: expected an http\(s\) URL/],
    [{ VENDOR_API_KEY: '' }, /VENDOR_API_KEY is not set/],
    [{ VENDOR_QUOTA_RPS: '-3' }, /VENDOR_QUOTA_RPS="-3" is not valid: expected a number greater than 0/],
    [
      { VENDOR_QUOTA_HEADROOM_PERCENT: '80' },
      /VENDOR_QUOTA_HEADROOM_PERCENT="80" is not valid: expected an integer from 0 to 50/,
    ],
    [{ VENDOR_PAGE_SIZE: '501' }, /VENDOR_PAGE_SIZE="501" is not valid: expected an integer from 1 to 500/],
    [{ VENDOR_TIMEOUT_MS: 'soon' }, /VENDOR_TIMEOUT_MS="soon"/],
    [
      { VENDOR_TIMEOUT_MS: '50000' },
      /VENDOR_TIMEOUT_MS=50000 is too long: an activity attempt has 60 s for the request and the writes of its page, so the request may take at most 40000 ms/,
    ],
    [
      { VENDOR_API_URL: 'http://vendor.example.com' },
      /VENDOR_API_URL=http:\/\/vendor.example.com is plain http to a host other than loopback.*VENDOR_ALLOW_INSECURE_HTTP=true/,
    ],
    [{ SYNC_BRANCHES: ' , ' }, /SYNC_BRANCHES is empty/],
    [{ TEMPORAL_TLS: 'maybe' }, /TEMPORAL_TLS="maybe" is not valid: expected true or false/],
    [{ TEMPORAL_TLS_CERT_PATH: '/x.pem' }, /TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together/],
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
