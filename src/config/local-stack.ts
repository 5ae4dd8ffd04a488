/**
 * The local stack's settings (`npm start`): what it starts itself, on which ports, and the
 * simulator's size. Only scripts/ read them: production code never loads this module (an
 * ESLint rule says so), so no local-stack default can reach a deployed process.
 */
import { type Env, int, positiveNumber } from './env.js';

/** The local stack (`npm start`): what it starts itself, on which ports, and the simulator's size. */
export interface LocalStackConfig {
  /** Which parts run locally: each is local unless its production setting is given. */
  local: { temporal: boolean; dynamo: boolean; vendor: boolean; objects: boolean };
  /** TEMPORAL_PORT, TEMPORAL_UI_PORT, DYNAMODB_LOCAL_PORT, SIM_PORT (0: a free port), S3_LOCAL_PORT. */
  ports: { temporal: number; ui: number; dynamo: number; sim: number; objects: number };
  /** The simulator npm start serves: VENDOR_QUOTA_RPS and SIM_*. */
  sim: {
    apiKey: string;
    quota: number;
    latencyMs: number;
    seed: number;
    branches: number;
    employeesPerBranch: number;
    salesPerSalesperson: number;
  };
  /** TEMPORAL_UI_URL: where the Web UI is reached, when not the dev server's own. */
  uiUrl?: string;
}

/** The local stack's settings, read and validated like every other setting. */
export function loadLocalStackConfig(e: Env = process.env): LocalStackConfig {
  const port = (name: string, fallback: number, min = 1) => int(e, name, fallback, min, 65535);
  const count = (name: string, fallback: number) => int(e, name, fallback, 0, 1_000_000);
  return {
    local: {
      temporal: !e.TEMPORAL_ADDRESS?.trim() && !e.TEMPORAL_PROFILE?.trim(),
      dynamo:
        !e.DYNAMODB_ENDPOINT?.trim() && !e.AWS_ENDPOINT_URL_DYNAMODB?.trim() && e.USE_AWS_DYNAMODB !== 'true',
      vendor: !e.VENDOR_API_URL?.trim(),
      // The landing zone is local unless a bucket is given (or it is off).
      objects: !e.LANDING_BUCKET?.trim() && e.LANDING?.trim().toLowerCase() !== 'off',
    },
    ports: {
      temporal: port('TEMPORAL_PORT', 7233),
      ui: port('TEMPORAL_UI_PORT', 8233),
      dynamo: port('DYNAMODB_LOCAL_PORT', 8000),
      sim: port('SIM_PORT', 8080, 0),
      objects: port('S3_LOCAL_PORT', 7070),
    },
    sim: {
      apiKey: e.VENDOR_API_KEY?.trim() || 'local-sim-key',
      quota: positiveNumber(e, 'VENDOR_QUOTA_RPS', 20),
      latencyMs: count('SIM_LATENCY_MS', 20),
      seed: count('SIM_SEED', 1),
      branches: count('SIM_BRANCHES', 13),
      employeesPerBranch: count('SIM_EMPLOYEES_PER_BRANCH', 12),
      salesPerSalesperson: count('SIM_SALES_PER_SALESPERSON', 20),
    },
    uiUrl: e.TEMPORAL_UI_URL?.trim() || undefined,
  };
}
