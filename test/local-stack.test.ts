/**
 * The local stack as a new user meets it: `npm start` (scripts/start.ts, on free ports and a
 * fresh DATA_DIR), then what the README and the printed hint say to do:
 * - the project's CLI (`list`, `progress`, `run`) with no setting of its own;
 * - every Temporal CLI example of the Operations page's block (docs/operations.md), as written;
 * - a client without the key, pointed at this encrypting deployment, refuses to start anything,
 *   and the histories hold no plaintext payload;
 * - the Web UI in headless Chromium: sign in at the codec server, set the UI's codec endpoint,
 *   and see a parent run's input and result decoded, at 127.0.0.1 and at localhost.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { Page } from 'puppeteer-core';
import { ROOT, freePort, stopChild } from '../scripts/stack.js';
import { LOCAL_SECRETS_FILE } from '../src/codec/index.js';
import { launchChromium, requireChromium } from './helpers/browser.js';
import { payloadsIn } from './helpers/evidence.js';
import { userEnv } from './helpers/start-process.js';

const ENCRYPTED_B64 = Buffer.from('binary/encrypted').toString('base64');
const README_RUN_ID = 'sales-sync-hourly-2026-11-21T05:00:00Z';

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a command to its end (bounded), with its output. */
function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** The project's CLI exactly as the README writes it: `npm run cli -- ...`. */
const cli = (args: string[], env: Record<string, string>) =>
  run('npm', ['run', '-s', 'cli', '--', ...args], env);

/** The text a person sees on the page. */
const bodyText = (page: Page) => page.evaluate('document.body.innerText') as Promise<string>;

const encodingOf = (p: Payload) => Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString('utf8');

describe('the local stack as a user runs it (npm start, then the README)', function () {
  this.timeout(300_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'local-stack-'));
  const emptyDir = mkdtempSync(join(tmpdir(), 'no-secrets-'));
  let child: ChildProcess;
  let output = '';
  let address = '';
  let firstRun = '';
  let runUrl = '';
  let loginUrl = '';
  let endpoint = '';
  let raw: Client;
  const cliEnv = () => userEnv({ DATA_DIR: dataDir });

  before(async function () {
    this.timeout(360_000);
    const ports = {
      TEMPORAL_PORT: await freePort(),
      TEMPORAL_UI_PORT: await freePort(),
      DYNAMODB_LOCAL_PORT: await freePort(),
      SIM_PORT: await freePort(),
      CODEC_SERVER_PORT: await freePort(),
      S3_LOCAL_PORT: await freePort(),
      METRICS_PORT: await freePort(),
      POSTGRES_PORT: await freePort(),
    };
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: userEnv({
        DATA_DIR: dataDir,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        SIM_EMPLOYEES_PER_BRANCH: '1',
        SIM_SALES_PER_SALESPERSON: '2',
        SIM_LATENCY_MS: '0',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 300_000;
    while (!output.includes('serving the hourly schedule')) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not get ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    address = /^Temporal\s+(\S+)/m.exec(output)?.[1] ?? '';
    firstRun = /^first run\s+(\S+)/m.exec(output)?.[1] ?? '';
    runUrl = /^first run\s+\S+\n\s+(http\S+)/m.exec(output)?.[1] ?? '';
    loginUrl = /open (http:\/\/\S+\/login) in the same browser/.exec(output)?.[1] ?? '';
    endpoint =
      /set the endpoint to (http:\/\/\S+) and turn on "Include cross-origin credentials"/.exec(output)?.[1] ??
      '';
    assert.ok(address && firstRun && runUrl && loginUrl && endpoint, output);
    assert.match(output, /^run \S+ succeeded$/m, output);
    // The SQL copy: the psql URL, and the copy equal to DynamoDB after the first run.
    assert.match(output, /^psql\s+psql postgres:\/\/postgres@127\.0\.0\.1:\d+\/sales/m, output);
    assert.match(output, /^SQL copy\s+equals DynamoDB field by field/m, output);
    raw = new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
  });

  it('creates the daily reconcile of the SQL copy beside the hourly schedule', async () => {
    assert.match(
      output,
      /^schedule\s+sales-sync-reconcile (created|updated): daily at 03:00 UTC, repairs/m,
      output,
    );
    // Read raw: the action's input is encrypted, as every payload of this deployment.
    const d = await raw.workflowService.describeSchedule({
      namespace: 'default',
      scheduleId: 'sales-sync-reconcile',
    });
    const action = d.schedule?.action?.startWorkflow;
    assert.equal(action?.workflowType?.name, 'reconcileWorkflow');
    for (const p of payloadsIn(action))
      assert.equal(encodingOf(p), 'binary/encrypted', 'the reconcile action');
  });

  after(async () => {
    await raw?.connection.close();
    if (child) await stopChild(child, 15_000);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('the project CLI: list, progress and run work with no setting of their own (encrypted, succeeded)', async () => {
    const env = cliEnv();
    const list = await cli(['list'], env);
    assert.equal(list.code, 0, list.out + list.err);
    assert.match(list.out, new RegExp(`COMPLETED\\s+${firstRun}\\n\\s+13/13 branches`));

    const progress = await cli(['progress', firstRun], env);
    assert.equal(progress.code, 0, progress.out + progress.err);
    assert.match(progress.err, /\[#{30}\] 13\/13 branches .*\| done/);
    assert.match(progress.out, new RegExp(`run ${firstRun} succeeded`));

    const started = await cli(['run', '--branches', 'Akron,Scranton'], env);
    assert.equal(started.code, 0, started.out + started.err);
    const id = /started (\S+)/.exec(started.out)?.[1] ?? '';
    assert.match(id, /^sales-sync-manual-/);
    assert.match(started.err, /\[#{30}\] 2\/2 branches .*\| done/);
    assert.match(started.out, /summary\s+2\/2 branches/);
    assert.match(started.out, new RegExp(`run ${id} succeeded`));
    // Its input went to Temporal encrypted, with the local stack's key.
    const history = await raw.workflow.getHandle(id).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    assert.equal(input.length, 1);
    assert.equal(encodingOf(input[0] as Payload), 'binary/encrypted');
  });

  it("the landed answers are where the README says (found with its find command, no key inside), and the CLI's replay --dry-run of the first run changes nothing and asks the vendor nothing", async () => {
    const shown = /^landed answers\s+find (\S+) -name '\*\.json\.gz'/m.exec(output)?.[1];
    assert.equal(shown, join(dataDir, 'objects', 'sales-sync-landing', 'raw'), output);
    const found = await run('find', [shown, '-name', '*.json.gz'], cliEnv());
    // The first run's answers (the CLI test above made a run of its own): raw/<path>/<window>/<run>/...
    const ofFirstRun = (out: string) =>
      out.split('\n').filter((f) => f.includes(`/${encodeURIComponent(firstRun)}/`));
    const files = ofFirstRun(found.out);
    // One object per answer: one per page the run fetched, and one more per retried attempt.
    const pages = Number(/^summary\s+13\/13 branches, \d+ salespersons, (\d+) pages/m.exec(output)?.[1]);
    const digests = new Set(files.map((f) => f.slice(f.lastIndexOf('/') + 1).split('-')[0]));
    assert.ok(
      pages > 0 && digests.size === pages && files.length >= pages,
      `${pages} pages, ${files.length} objects`,
    );
    for (const f of files) {
      const doc = JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')) as {
        status: number;
        run: { workflowId: string };
      };
      assert.equal(typeof doc.status, 'number');
      assert.equal(doc.run.workflowId, firstRun);
      assert.ok(
        !gunzipSync(readFileSync(f)).toString('utf8').includes('local-sim-key'),
        `${f} holds no API key`,
      );
    }
    const dry = await cli(['replay', '--run', firstRun, '--dry-run'], cliEnv());
    assert.equal(dry.code, 0, dry.out + dry.err);
    assert.match(dry.out, /dry run: nothing is written/);
    assert.match(dry.out, /sales: (\d+) fetched, 0 new, 0 updated, \1 unchanged, 0 set aside/);
    const after = ofFirstRun((await run('find', [shown, '-name', '*.json.gz'], cliEnv())).out);
    assert.equal(after.length, files.length, 'a replay lands nothing');
  });

  it('every Temporal CLI example of the Operations page (docs/operations.md) runs as written and prints decoded payloads', async () => {
    const operations = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const block = /```sh\n((?:(?!```)[\s\S])*temporal schedule trigger(?:(?!```)[\s\S])*)```/.exec(
      operations,
    )?.[1];
    assert.ok(block, 'docs/operations.md has the Temporal CLI block');
    const lines = block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    const setup = lines.filter((l) => !l.startsWith('temporal '));
    const commands = lines.filter((l) => l.startsWith('temporal '));
    assert.deepEqual(setup, ['eval "$(npm run -s cli -- codec-env)"']);
    assert.ok(commands.length >= 5, commands.join('\n'));
    const env = userEnv({
      DATA_DIR: dataDir,
      PATH: `${join(ROOT, '.tools', 'bin')}:${process.env.PATH ?? ''}`,
    });
    const results: Record<string, Ran> = {};
    for (const command of commands) {
      // The page's example run ID stands for a real one.
      const script = `set -euo pipefail\n${setup.join('\n')}\n${command.replaceAll(README_RUN_ID, firstRun)}`;
      const r = await run('bash', ['-c', script], env);
      assert.equal(r.code, 0, `${command}\n${r.out}\n${r.err}`);
      assert.ok(
        !r.out.includes(ENCRYPTED_B64) && !r.out.includes('binary/encrypted'),
        `${command} printed ciphertext:\n${r.out}`,
      );
      results[command.split(' ').slice(0, 3).join(' ')] = r;
    }
    assert.match(results['temporal schedule describe']?.out ?? '', /vendorTaskQueue|anNvbi9wbGFpbg/);
    assert.match(results['temporal workflow query']?.out ?? '', /branchesTotal/);
    assert.match(
      results['temporal workflow show']?.out ?? '',
      /"branchesSynced":13[\s\S]*ResultEncoding\s+json\/plain/,
    );
    assert.match(results['temporal workflow list']?.out ?? '', /sales-sync\/\S+\/branch\/Scranton/);
  });

  it('a client without the key, pointed at this encrypting deployment, refuses to start anything: no plaintext payload in any history', async () => {
    const idsBefore = new Set<string>();
    for await (const wf of raw.workflow.list()) idsBefore.add(`${wf.workflowId}/${wf.runId}`);
    const env = userEnv({ DATA_DIR: emptyDir, TEMPORAL_ADDRESS: address });
    for (const args of [
      ['run', '--branches', 'Akron'],
      ['run', '--full', '--detach'],
      ['schedule', 'create'],
      ['schedule', 'trigger'],
      ['schedule', 'backfill', '--from', '2026-11-19T00:00:00Z', '--to', '2026-11-19T02:00:00Z'],
    ]) {
      const r = await cli(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.out}\n${r.err}`);
      assert.match(r.err, /missing PAYLOAD_ENCRYPTION_KEY and PAYLOAD_ENCRYPTION_KEY_ID/);
      assert.doesNotMatch(r.out, /started/);
    }
    // Nothing new was started by those commands (runs of the schedule and the README's backfill may go on).
    for await (const wf of raw.workflow.list({
      query: `WorkflowId STARTS_WITH 'sales-sync-manual-' OR WorkflowId STARTS_WITH 'sales-sync-full-'`,
    }))
      assert.ok(idsBefore.has(`${wf.workflowId}/${wf.runId}`), `a new run appeared: ${wf.workflowId}`);

    // The schedule's action and every history hold ciphertext only.
    const schedule = await raw.workflowService.describeSchedule({
      namespace: 'default',
      scheduleId: 'sales-sync-hourly',
    });
    const action = payloadsIn(schedule.schedule?.action);
    assert.ok(action.length >= 1);
    for (const p of action) assert.equal(encodingOf(p), 'binary/encrypted', 'the schedule action');
    let histories = 0;
    let payloads = 0;
    for await (const wf of raw.workflow.list()) {
      const history = await raw.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      histories++;
      for (const event of history.events ?? []) {
        // A patch marker (`patched()`, docs/development.md) holds only the patch's ID, a constant of
        // the code: the SDK's core writes it without the data converter, so it is the one plain payload.
        const marker = event.markerRecordedEventAttributes;
        if (marker?.markerName === 'core_patch') continue;
        for (const p of payloadsIn(event)) {
          payloads++;
          assert.equal(
            encodingOf(p),
            'binary/encrypted',
            `${wf.workflowId}: a ${encodingOf(p)} payload in event ${String(event.eventId)} (${String(event.eventType)})`,
          );
        }
      }
    }
    assert.ok(histories >= 3 && payloads >= 10, `${histories} histories, ${payloads} payloads`);

    // PAYLOAD_ENCRYPTION=off (explicit) reads what it can: a succeeded run is still reported as succeeded.
    const off = userEnv({ DATA_DIR: emptyDir, TEMPORAL_ADDRESS: address, PAYLOAD_ENCRYPTION: 'off' });
    const progress = await cli(['progress', firstRun], off);
    assert.equal(progress.code, 0, progress.out + progress.err);
    assert.match(progress.err, new RegExp(`run ${firstRun} succeeded, but its summary cannot be read here`));
    const list = await cli(['list'], off);
    assert.equal(list.code, 0, list.out + list.err);
    assert.match(list.out, new RegExp(`COMPLETED\\s+${firstRun}\\n\\s+\\(summary cannot be read`));
  });

  it('the Web UI in headless Chromium, following the printed hint: the input and result of a parent run shown decoded (127.0.0.1 and localhost)', async function () {
    const chromium = requireChromium(this);
    const token = (
      JSON.parse(readFileSync(join(dataDir, LOCAL_SECRETS_FILE), 'utf8')) as { CODEC_SERVER_TOKEN: string }
    ).CODEC_SERVER_TOKEN;
    for (const host of ['127.0.0.1', 'localhost']) {
      // "With the Web UI at localhost, use localhost in both URLs too."
      const at = (url: string) => url.replace('127.0.0.1', host);
      const { browser, close } = await launchChromium(chromium);
      const codecStatuses: string[] = [];
      try {
        const page = await browser.newPage();
        await page.setViewport({ width: 1400, height: 1000 });
        page.on('response', (r) => {
          if (r.url().startsWith(at(endpoint))) codecStatuses.push(`${r.request().method()} ${r.status()}`);
        });
        // 1. Sign in at the codec server with CODEC_SERVER_TOKEN.
        await page.goto(at(loginUrl));
        await page.type('input[name=token]', token);
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
        assert.match(await bodyText(page), /Signed in/);
        // 2. The Web UI's Codec Server settings: the endpoint, with cross-origin credentials.
        await page.goto(at(runUrl.replace(/\/workflows\/.*$/, '/workflows')), { waitUntil: 'networkidle0' });
        await page.click('[data-testid=data-encoder-status]');
        await page.waitForSelector('#data-encoder-endpoint-input', { visible: true });
        await page.type('#data-encoder-endpoint-input', at(endpoint));
        await page.click('[data-testid=data-encoder-include-credentials]');
        await page.click('[data-testid=confirm-data-encoder-button]');
        await page.waitForSelector('#data-encoder-endpoint-input', { hidden: true });
        // 3. The parent run: its input and result, decoded.
        await page.goto(at(runUrl), { waitUntil: 'networkidle0' });
        await page
          .waitForFunction(
            `/"vendorTaskQueue"/.test(document.body.innerText) && /"branchesRequested"/.test(document.body.innerText)`,
            { timeout: 30_000 },
          )
          .catch(async (err: unknown) => {
            await page.screenshot({ path: join(tmpdir(), `webui-${host}.png`), fullPage: true });
            throw new Error(
              `at ${host}: the run page did not show the decoded input and result (screenshot ${join(tmpdir(), `webui-${host}.png`)}; codec answers: ${codecStatuses.join(', ')}): ${(err as Error).message}`,
            );
          });
        const text = await bodyText(page);
        assert.match(text, /Input[\s\S]*"branchConcurrency": 4/);
        assert.match(text, /Result[\s\S]*"branchesSynced": 13/);
        assert.doesNotMatch(text, /Codec Server could not connect|binary\/encrypted/);
        assert.ok(
          codecStatuses.some((s) => s === 'POST 200'),
          codecStatuses.join(', '),
        );
        assert.ok(
          !codecStatuses.some((s) => /40[13]$/.test(s)),
          `refused decodes at ${host}: ${codecStatuses.join(', ')}`,
        );
      } finally {
        await close();
      }
    }
  });
});
