/** Mocha root setup: the Temporal runtime logs errors only (the tests cause activity failures on purpose). */
import { installRuntime } from '../../src/worker.js';

// The AWS SDK is pinned to a release that supports Node 20; its notice about future releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await installRuntime({ logLevel: 'ERROR' });
