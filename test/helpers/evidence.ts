/**
 * What a run left behind, as text a test can search for secrets and records: every history
 * of a run (the parent and, through its events, every child), and everything the process
 * printed while a piece of work ran.
 */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';

/**
 * Every Payload in a history (or any protobuf object), wherever it sits, except search
 * attributes: the server indexes those, so they are never encrypted.
 */
export function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const v = value as { data?: unknown; metadata?: unknown };
  if (v.data instanceof Uint8Array && v.metadata && typeof v.metadata === 'object') {
    found.push(v as Payload);
    return found;
  }
  for (const [k, child] of Object.entries(value)) if (k !== 'searchAttributes') payloadsIn(child, found);
  return found;
}

/** Every history of the given runs and of all their children, recursively, as one text. */
export async function allHistories(
  client: Client,
  ...workflowIds: string[]
): Promise<{ text: string; count: number }> {
  const pending = [...workflowIds];
  const seen = new Set<string>();
  let text = '';
  while (pending.length) {
    const id = pending.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const h = await client.workflow.getHandle(id).fetchHistory();
    for (const e of h.events ?? []) {
      const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (child) pending.push(child);
    }
    // Payload bytes as text, so an unencrypted value is found where it was stored.
    text += JSON.stringify(h, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
  }
  return { text, count: seen.size };
}

/** Runs `fn` while capturing what this process writes to stdout and stderr. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; output: string }> {
  const logged: string[] = [];
  const original = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  const capture = (chunk: string | Uint8Array) => {
    logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    return { result: await fn(), output: logged.join('') };
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
}
