/** Entry of `npm run cli`: runs the command line (./index.ts) and exits with its code. */
import { main } from './index.js';
import { exitWith } from '../node/main.js';

exitWith(() => main(process.argv.slice(2)));
