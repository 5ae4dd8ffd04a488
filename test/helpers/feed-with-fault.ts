/**
 * The feed service as `npm run feed` runs it, but with a change object store that kills the
 * process (SIGKILL) right after writing its n-th object, before the batch is applied or its
 * checkpoint reported: the kill test of test/feed-faults.test.ts. The fault lives here, not in
 * the product, which has no setting for it.
 *
 *   node --import tsx test/helpers/feed-with-fault.ts <n>
 */
import type { ChangeObjectStore } from '../../src/feed/objects.js';
import { changeObjects, runFeedService } from '../../src/feed/service.js';
import { loadLandingConfig } from '../../src/config/landing.js';

/** `inner`, except that the n-th `put` kills the process once the object is written. */
export function killAfterPuts(inner: ChangeObjectStore, n: number): ChangeObjectStore {
  let written = 0;
  return {
    where: inner.where,
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    put: async (key, body) => {
      await inner.put(key, body);
      if (++written < n) return;
      console.error(`fault: killed after writing ${key}`);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) {
  console.error(
    `usage: feed-with-fault.ts <n>: n, the object after which to kill, must be a positive integer (got ${process.argv[2]})`,
  );
  process.exit(2);
}
const { objects, prefix } = changeObjects(loadLandingConfig());
runFeedService({ objects: killAfterPuts(objects, n), prefix }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
