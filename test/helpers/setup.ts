/** Mocha root setup: the Temporal runtime logs warnings and errors only. */
import { installRuntimeLogging } from '../../src/worker.js';

installRuntimeLogging('WARN');
