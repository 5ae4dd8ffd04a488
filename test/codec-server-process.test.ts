/** The codec server as its own process (tsx src/codec/server.ts): bad settings stop it, good ones serve. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TOKEN, newKey } from './helpers/codec.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('payload encryption', function () {
  this.timeout(180_000);
  describe('the codec server process (tsx src/codec/server.ts)', () => {
    function run(env: Record<string, string>, untilOutput?: RegExp) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/codec/server.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const ready = new Promise<void>((resolve, reject) => {
        const check = () => untilOutput && untilOutput.test(out) && resolve();
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`exited early: ${out}${err}`)));
      });
      ready.catch(() => undefined); // awaited only by the tests that wait for output
      return { child, exited, ready, output: () => ({ out, err }) };
    }

    it('stops with exit code 2 and a message naming the variable when a setting is bad', async () => {
      const key = newKey();
      const noToken = run({ PAYLOAD_ENCRYPTION_KEY: key });
      assert.equal(await noToken.exited, 2);
      assert.match(
        noToken.output().err,
        /configuration error: CODEC_SERVER_TOKEN is not set: expected at least 16/,
      );
      const noKey = run({ CODEC_SERVER_TOKEN: TOKEN });
      assert.equal(await noKey.exited, 2);
      assert.match(
        noKey.output().err,
        /PAYLOAD_ENCRYPTION_KEY is not set: expected base64 of 32 random bytes/,
      );
      const shortKey = run({ CODEC_SERVER_TOKEN: TOKEN, PAYLOAD_ENCRYPTION_KEY: key.slice(0, 20) });
      assert.equal(await shortKey.exited, 2);
      assert.match(shortKey.output().err, /PAYLOAD_ENCRYPTION_KEY is not valid/);
      assert.ok(!shortKey.output().err.includes(key.slice(0, 20)), 'no key material in the message');
    });

    it('serves on the configured port, prints its URL and how to set it in the Web UI, and stops on SIGTERM', async () => {
      const proc = run(
        { CODEC_SERVER_TOKEN: TOKEN, PAYLOAD_ENCRYPTION_KEY: newKey(), CODEC_SERVER_PORT: '0' },
        /--codec-auth .*\n/, // the last line printed at start
      );
      await proc.ready;
      const { out } = proc.output();
      const url = /codec server\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      assert.ok(url, out);
      assert.match(out, /--codec-auth "Bearer \$CODEC_SERVER_TOKEN"/);
      assert.ok(!out.includes(TOKEN), 'the token is not printed');
      assert.equal((await fetch(`${url}/health`)).status, 200);
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exited, 0);
    });
  });
});
