/**
 * The cascade's orchestration alone, for `npm run bench:floor`: a parent starts a child per
 * branch, each branch a child per salesperson, each salesperson one activity on the
 * rate-limited queue, with the product's concurrency windows and activity options. The
 * activity does no I/O, so what the run costs is Temporal's share (server and SDK).
 */
import { executeChild } from '@temporalio/workflow';
import { slidingWindow, vendorActivities } from '../../../src/workflows/common.js';

export interface FloorShape {
  branches: number;
  salespersons: number;
  branchConcurrency: number;
  salespersonConcurrency: number;
  vendorQueue: string;
}

type FloorActivities = { page: (employeeId: string) => Promise<{ employeeId: string; pages: number }> };

export async function floorParent(shape: FloorShape): Promise<number> {
  const branches = Array.from({ length: shape.branches }, (_, i) => `b${i}`);
  let done = 0;
  await slidingWindow(branches, 0, shape.branchConcurrency, async (b) => {
    const synced = await executeChild(floorBranch, {
      workflowId: `${shape.vendorQueue}/${b}`,
      args: [b, shape],
    });
    done += synced;
  });
  return done;
}

export async function floorBranch(branch: string, shape: FloorShape): Promise<number> {
  const ids = Array.from({ length: shape.salespersons }, (_, i) => `${branch}-s${i}`);
  let done = 0;
  await slidingWindow(ids, 0, shape.salespersonConcurrency, async (id) => {
    await executeChild(floorSalesperson, {
      workflowId: `${shape.vendorQueue}/${id}`,
      args: [id, shape.vendorQueue],
    });
    done++;
  });
  return done;
}

export async function floorSalesperson(employeeId: string, vendorQueue: string): Promise<number> {
  // The product's options for a vendor activity (timeouts, retry), for an activity of its own.
  const { page } = vendorActivities(vendorQueue) as unknown as FloorActivities;
  return (await page(employeeId)).pages;
}
