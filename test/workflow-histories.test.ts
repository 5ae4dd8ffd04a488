/**
 * Deploy safety: histories of real runs of every workflow type (test/histories/*.json, recorded
 * by `npm run histories:record`) replay against the current workflow code. A workflow change that
 * would break the runs in flight when it is deployed (a new step, a reordered one, without
 * `patched()`) fails here instead of stranding them. docs/development.md says what to do then.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../src/node/root.js';
import { workflowBundle } from '../src/workflow-bundle.js';
import * as exported from '../src/workflows/index.js';

/** Every workflow type the workers register (the functions src/workflows/index.ts exports). */
const workflows = Object.fromEntries(
  Object.entries(exported).filter(([n, v]) => typeof v === 'function' && n.endsWith('Workflow')),
);

const DIR = join(PROJECT_ROOT, 'test', 'histories');

interface Recorded {
  name: string;
  workflowId: string;
  history: proto.temporal.api.history.v1.History;
}

function recorded(): Recorded[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const raw = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { workflowId: string; history: object };
      return {
        name: f,
        workflowId: raw.workflowId,
        history: proto.temporal.api.history.v1.History.fromObject(raw.history),
      };
    });
}

/** Replays each history on `bundle`; the error of each (undefined when it replayed). */
async function replay(bundle: { code: string } | { codePath: string }, histories: Recorded[]) {
  const errors = new Map<string, Error | undefined>();
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: 'golden-histories' },
    histories.map((h) => ({ workflowId: h.workflowId, history: h.history })),
  );
  for await (const r of results) {
    const name = histories.find((h) => h.workflowId === r.workflowId)?.name ?? r.workflowId;
    errors.set(name, r.error);
  }
  return errors;
}

describe('recorded workflow histories replay on the current code', function () {
  this.timeout(180_000);
  const histories = recorded();

  it('holds a history of every workflow type, one continued as new and one with a failed branch', () => {
    const types = new Set(
      histories.map(
        (h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '',
      ),
    );
    assert.ok(Object.keys(workflows).length >= 6, Object.keys(workflows).join(', '));
    for (const t of Object.keys(workflows))
      assert.ok(types.has(t), `no recorded history of ${t}: run npm run histories:record`);
    const closing = (h: Recorded) => h.history.events?.at(-1);
    assert.ok(
      histories.some((h) => closing(h)?.workflowExecutionContinuedAsNewEventAttributes),
      'a history that continues as new',
    );
    assert.ok(
      histories.some((h) => closing(h)?.workflowExecutionFailedEventAttributes),
      'a history of a failed run',
    );
  });

  it('replays every recorded history without a determinism error', async () => {
    const errors = await replay(await workflowBundle(), histories);
    assert.equal(errors.size, histories.length);
    const failed = [...errors]
      .filter(([, e]) => e !== undefined)
      .map(([n, e]) => `${n}: ${e?.message.slice(0, 400)}`);
    assert.deepEqual(failed, [], 'histories that no longer replay (see docs/development.md)');
  });

  it('fails when the workflow code takes a step the history does not have', async () => {
    // A copy of the sources whose parent workflow starts with a timer: what an unpatched change does.
    const copy = join(PROJECT_ROOT, '.build', 'nondeterminism-check');
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(copy, { recursive: true });
    cpSync(join(PROJECT_ROOT, 'src'), join(copy, 'src'), { recursive: true });
    const file = join(copy, 'src', 'workflows', 'sales-sync.ts');
    const marker = /export async function salesSyncWorkflow\([^)]*\): Promise<SyncSummary> \{/;
    const source = readFileSync(file, 'utf8');
    assert.match(source, marker, 'the parent workflow is where this test expects it');
    writeFileSync(
      file,
      `import { sleep as extraStep } from '@temporalio/workflow';\n${source.replace(marker, (m) => `${m}\n  await extraStep(1);`)}`,
    );
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(copy, 'src', 'workflows', 'index.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    rmSync(copy, { recursive: true, force: true });
    const errors = await replay(
      { code },
      histories.filter((h) => h.name === 'sales-sync.json'),
    );
    const error = errors.get('sales-sync.json');
    assert.ok(
      error instanceof DeterminismViolationError,
      `expected a determinism error, got ${String(error)}`,
    );
  });
});
