/** A workflow that sleeps for a given time: proves that the test server skips time. */
import { sleep } from '@temporalio/workflow';

export async function sleeper(ms: number): Promise<string> {
  await sleep(ms);
  return 'woke up';
}
