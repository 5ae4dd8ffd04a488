/** Entry of `npm run cli`: runs the command line (./index.ts) and exits with its code. */
import { main } from './index.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
