/** The vendor API simulator: data generation and mutation, the HTTP server and its control path, and its command lines. */
export * from './dataset.js';
export * from './server.js';
export * from './prng.js';
export { parseSimCommandLine, helpText, UsageError, DEFAULT_CLI_API_KEY, DEFAULT_CLI_PORT } from './cli.js';
export type { SimCommand } from './cli.js';
export { describeReport, mutateHelpText, parseMutateCommand, runMutate } from './mutate-command.js';
export type { MutateCommand } from './mutate-command.js';
export { MUTATION_FIELDS, namedMutationOptions } from './control.js';
export type { MutationField } from './control.js';
