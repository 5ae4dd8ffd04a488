/** Types of src/node/fingerprint.mjs (plain JavaScript: scripts/build.mjs loads it before any TypeScript). */
export declare function filesUnder(dir: string): string[];
export declare function fingerprint(root: string, files: string[]): string;
