/** Types of scripts/setup-chromium.mjs (plain JavaScript: setup runs before node_modules exists). */
export declare const CHROMIUM_CANDIDATES: string[];
export declare const CHROMIUM_MISSING: string;
export interface ChromiumFacts {
  env: Record<string, string | undefined>;
  exists: (path: string) => boolean;
  isRoot: boolean;
  hasAptGet: boolean;
}
export declare function chromiumAction(facts: ChromiumFacts): {
  kind: 'skip' | 'present' | 'apt-get' | 'missing';
  detail: string;
};
export declare function chromiumFacts(): ChromiumFacts;
export declare function ensureChromium(): Promise<void>;
