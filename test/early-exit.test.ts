/**
 * A server that exits while it starts is started again, a bounded number of times
 * (scripts/lib/early-exit.ts): the Temporal dev server picks its internal ports at random when it
 * starts, and another process may take one between its check and its bind (CI saw it panic
 * with "bind: address already in use"). Any other failure to start is not retried.
 */
import assert from 'node:assert/strict';
import { ExitedEarlyError, startAgainOnEarlyExit } from '../scripts/lib/early-exit.js';

describe('starting a server again when it exits while starting', () => {
  it('starts again after an early exit, says so, and returns the server that started', async () => {
    const said: string[] = [];
    let calls = 0;
    const got = await startAgainOnEarlyExit(
      'Temporal dev server',
      3,
      () => {
        calls++;
        if (calls < 3) return Promise.reject(new ExitedEarlyError(`exited with code 2 (call ${calls})`));
        return Promise.resolve('server');
      },
      (line) => said.push(line),
    );
    assert.equal(got, 'server');
    assert.equal(calls, 3);
    assert.equal(said.length, 2);
    assert.match(
      said[0] ?? '',
      /exited with code 2 \(call 1\).*Starting the Temporal dev server again \(attempt 2 of 3\)/,
    );
  });

  it('gives up after the last attempt with the last exit, and never retries another failure', async () => {
    let calls = 0;
    await assert.rejects(
      startAgainOnEarlyExit(
        'x',
        3,
        () => Promise.reject(new ExitedEarlyError(`exit ${++calls}`)),
        () => {},
      ),
      /exit 3/,
    );
    assert.equal(calls, 3);
    let other = 0;
    await assert.rejects(
      startAgainOnEarlyExit(
        'x',
        3,
        () => Promise.reject(new Error(`port busy ${++other}`)),
        () => {},
      ),
      /port busy 1/,
    );
    assert.equal(other, 1);
  });
});
