/** The stand-alone simulator: its command-line and environment parsing, and src/sim/main.ts as a process. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { VendorSimulator, parseMutateCommand, parseSimCommandLine } from '../src/sim/index.js';
import { field } from './helpers/sim-client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('simulator command line', () => {
  it('parses flags over environment, and names the flag or variable on bad values', () => {
    const cmd = parseSimCommandLine(['--port', '9000', '--quota=5', '--faults', 'drop=0.1,html=0.2'], {
      SIM_PORT: '1',
      SIM_SEED: '7',
      SIM_RETRY_AFTER: 'fractional',
      VENDOR_API_KEY: 'secret-key',
    });
    assert.ok(!cmd.help);
    assert.equal(cmd.options.port, 9000);
    assert.equal(cmd.options.seed, 7);
    assert.equal(cmd.options.quota, 5);
    assert.equal(cmd.options.retryAfterMode, 'fractional');
    assert.deepEqual(cmd.options.faults, { drop: 0.1, html: 0.2 });
    assert.deepEqual(cmd.options.apiKeys, ['secret-key']);
    assert.equal(cmd.keySource, 'from VENDOR_API_KEY');
    const withSimKey = parseSimCommandLine([], { SIM_API_KEY: 'a,b', VENDOR_API_KEY: 'c' });
    assert.ok(!withSimKey.help);
    assert.deepEqual(withSimKey.options.apiKeys, ['a', 'b']);
    assert.equal(withSimKey.options.port, 8080);

    assert.throws(
      () => parseSimCommandLine(['--port', 'abc'], {}),
      /invalid --port "abc": expected an integer/,
    );
    assert.throws(() => parseSimCommandLine([], { SIM_QUOTA: 'lots' }), /invalid SIM_QUOTA "lots"/);
    assert.throws(() => parseSimCommandLine(['--faults', 'boom=1'], {}), /--faults.*kind=rate/);
    assert.throws(() => parseSimCommandLine(['--retry-after', 'later'], {}), /--retry-after.*seconds, zero/);
    assert.throws(() => parseSimCommandLine(['--nope'], {}), /--help/);
    assert.throws(
      () => parseSimCommandLine(['--api-key', ','], {}),
      (err: Error) => err.message.startsWith('invalid --api-key:'),
    );
    assert.deepEqual(parseSimCommandLine(['--help'], {}), { help: true });
  });

  /** Runs src/sim/main.ts as its own process. */
  function runMain(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/sim/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, SIM_PORT: '', VENDOR_API_KEY: '', SIM_API_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('runs alone, prints its URL but not the key, serves, and stops on SIGTERM', async () => {
    const run = runMain(['--port', '0', '--branches', '2'], { VENDOR_API_KEY: 'k-top-secret' });
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      url = /listening on (http:\/\/\S+)/.exec(run.out())?.[1];
      if (url === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no URL printed: ${run.out()} ${run.err()}`);
    const res = await fetch(`${url}/branches`, { headers: { 'x-api-key': 'k-top-secret' } });
    assert.equal(res.status, 200);
    assert.equal(field(await res.json(), 'result', 1, 'branch_name'), 'Akron');
    assert.match(run.out(), /VENDOR_API_KEY/);
    assert.ok(!run.out().includes('k-top-secret'));
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });

  it('exits 2 naming the flag on a bad value, and documents every flag in --help', async () => {
    const bad = runMain(['--latency-ms', 'soon']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.err(), /invalid --latency-ms "soon": expected a number >= 0/);
    const help = runMain(['--help']);
    assert.equal(await help.exited, 0);
    for (const flag of [
      '--port',
      '--seed',
      '--branches',
      '--quota',
      '--latency-ms',
      '--api-key',
      '--faults',
    ]) {
      assert.ok(help.out().includes(flag), flag);
    }
    assert.match(help.out(), /SIM_PORT/);
  });

  it('parses `mutate`: counts as flags, the URL and key from the environment, bad values named', () => {
    const cmd = parseMutateCommand(['--voids', '2', '--late-sales=1', '--seed', '4'], {
      VENDOR_API_URL: 'http://127.0.0.1:9999/',
      VENDOR_API_KEY: 'k',
    });
    assert.ok(!cmd.help);
    assert.equal(cmd.url, 'http://127.0.0.1:9999');
    assert.deepEqual(cmd.keys, ['k']);
    assert.deepEqual(cmd.options, { voids: 2, lateSales: 1, seed: 4 });
    const local = parseMutateCommand(['--old-corrections', '1'], {});
    assert.ok(!local.help);
    assert.equal(local.url, 'http://127.0.0.1:8080');
    assert.ok(local.keys.includes('local-sim-key') && local.keys.includes('sim-key'), 'both default keys');
    assert.throws(
      () => parseMutateCommand(['--voids', 'many'], {}),
      /invalid --voids "many": expected an integer >= 0/,
    );
    assert.throws(() => parseMutateCommand([], {}), /at least one count/);
    assert.throws(() => parseMutateCommand(['--shout', '1'], {}), /--help/);
  });

  it('`mutate` voids a sale of a running simulator and prints the report', async function () {
    this.timeout(60_000);
    const sim = await VendorSimulator.start({ port: 0, apiKeys: ['k-mutate'], quota: 0 });
    try {
      const before = sim.dataset.clone();
      const run = runMain(['mutate', '--voids', '1', '--url', sim.url], { VENDOR_API_KEY: 'k-mutate' });
      assert.equal(await run.exited, 0, run.err());
      const report = JSON.parse(run.out()) as { voids: { saleId: number; employeeId: number }[] };
      const v = report.voids[0];
      assert.ok(v && report.voids.length === 1, run.out());
      assert.ok(before.salesBySalesperson.get(v.employeeId)?.some((s) => s.id === v.saleId));
      assert.ok(!sim.dataset.salesBySalesperson.get(v.employeeId)?.some((s) => s.id === v.saleId));
      assert.match(run.err(), /voided 1 sale/);
      assert.ok(!run.out().includes('k-mutate') && !run.err().includes('k-mutate'));

      const refused = runMain(['mutate', '--voids', '1', '--url', sim.url], { VENDOR_API_KEY: 'wrong' });
      assert.equal(await refused.exited, 1);
      assert.match(refused.err(), /401.*VENDOR_API_KEY/s);
      const usage = runMain(['mutate', '--voids', 'x']);
      assert.equal(await usage.exited, 2);
      assert.match(usage.err(), /invalid --voids "x"/);
      const help = runMain(['mutate', '--help']);
      assert.equal(await help.exited, 0);
      for (const flag of ['--voids', '--reappearances', '--late-sales', '--old-corrections', '--new-sales'])
        assert.ok(help.out().includes(flag), flag);
    } finally {
      await sim.stop();
    }
  });
});
