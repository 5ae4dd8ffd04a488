/** The vendor API simulator: data generation and mutation, the HTTP server, and its command-line parsing. */
export * from './dataset.js';
export * from './server.js';
export * from './prng.js';
export { parseSimCommandLine, helpText, UsageError, DEFAULT_CLI_API_KEY, DEFAULT_CLI_PORT } from './cli.js';
export type { SimCommand } from './cli.js';
