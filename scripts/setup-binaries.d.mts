/** Types of scripts/setup-binaries.mjs (plain JavaScript: setup runs before node_modules exists). */
export declare const TEMPORAL_CLI_VERSION: string;
export declare const VERSITYGW_VERSION: string;
export declare function installTemporalCli(): Promise<void> | undefined;
export declare function installVersitygw(): Promise<void> | undefined;
export declare function installPromtool(): Promise<void> | undefined;
