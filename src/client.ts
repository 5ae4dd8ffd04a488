/**
 * The project's Temporal client: the one place a client connection is made (address, namespace,
 * TLS or API key from the Temporal configuration, the codec's data converter), so every caller
 * reads and writes payloads the way the workers do. It holds the client-side operations the CLI
 * and `npm start` present: start a run and follow it (client/runs.ts), the schedules (hourly and
 * reconcile, trigger, backfill: client/schedule.ts), replay (client/replay.ts) and reconcile.
 * Workers keep their own NativeConnection (src/worker.ts, src/feed/service.ts).
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { type CodecConfig, dataConverterFor } from './codec/index.js';
import type { ReconcileInput } from './shared/reconcile.js';
import { type TemporalConfig, temporalConnectionOptions } from './config/temporal.js';
import { feedTaskQueue } from './shared/task-queues.js';
import { reconcileWorkflow } from './workflows/index.js';
import { reconcileScheduleId } from './client/schedule.js';

export * from './client/runs.js';
export * from './client/schedule.js';
export * from './client/sweeps.js';
export * from './client/replay.js';

/** A connected client and how to close its connection. */
export interface TemporalClient {
  client: Client;
  /** Closes the connection (calls in flight on it fail). */
  close: () => Promise<void>;
}

/**
 * Connects to Temporal with the codec (`codec` undefined: plain payloads). A server that cannot be
 * reached is an error naming the address and namespace, and what to check.
 */
export async function connectClient(
  temporal: TemporalConfig,
  codec: CodecConfig | undefined,
): Promise<TemporalClient> {
  let connection: Connection;
  try {
    connection = await Connection.connect(temporalConnectionOptions(temporal));
  } catch (err) {
    throw new Error(
      `Cannot reach Temporal at ${temporal.address} (namespace ${temporal.namespace}): ${(err as Error).message}. Is the server up (npm start) or TEMPORAL_ADDRESS right?`,
      { cause: err },
    );
  }
  const client = new Client({
    connection,
    namespace: temporal.namespace,
    dataConverter: dataConverterFor(codec),
  });
  return { client, close: () => connection.close() };
}

/** The plain settings of a local dev server at `address` (namespace `default`, no TLS). */
export function localTemporal(address: string): TemporalConfig {
  return { address, namespace: 'default', connection: { address } };
}

/**
 * Starts a reconcile of the SQL copy now, on the feed's task queue (its worker has PostgreSQL and
 * DynamoDB); the handle's result is the report.
 */
export async function startReconcile(
  client: Client,
  suffix: string,
  input: ReconcileInput,
): Promise<WorkflowHandle<typeof reconcileWorkflow>> {
  return client.workflow.start(reconcileWorkflow, {
    workflowId: `${reconcileScheduleId(suffix)}/manual-${new Date().toISOString()}`,
    taskQueue: feedTaskQueue(suffix),
    args: [input],
    staticSummary: `Reconcile from the CLI${input.repair ? ' (repair)' : ''}`,
  });
}
