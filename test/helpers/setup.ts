/** Mocha root hooks: quiet the Temporal runtime's logs (workers log state changes at INFO). */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
