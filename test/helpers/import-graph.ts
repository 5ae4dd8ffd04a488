/**
 * The import graph of a source tree and its circles. Every static `import` and `export ... from`
 * counts, `import type` included: a type-only circle still ties the modules' layers together.
 * Specifiers are resolved the way NodeNext resolves this project's own files (`./x.js` is
 * `./x.ts`); a relative specifier that resolves to no file is an error, so that no edge is
 * missed silently.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Source files the graph is made of (declaration files describe, they import nothing at run time). */
const SOURCE = /\.(ts|mts|mjs|js)$/;
const DECLARATION = /\.d\.m?ts$/;

/** Every source file under `dir`, sorted. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(name) && !DECLARATION.test(name)) out.push(path);
  }
  return out;
}

/** The module specifiers of a file's static imports and re-exports, type-only ones included. */
export function importSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const s of source.statements) {
    if ((ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier) {
      if (ts.isStringLiteral(s.moduleSpecifier)) out.push(s.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(s) &&
      ts.isExternalModuleReference(s.moduleReference) &&
      ts.isStringLiteral(s.moduleReference.expression)
    ) {
      out.push(s.moduleReference.expression.text);
    }
  }
  return out;
}

/** The file a relative specifier names, as TypeScript's NodeNext resolution finds it. */
function resolveRelative(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  const candidates = [
    target.replace(/\.js$/, '.ts'),
    target.replace(/\.mjs$/, '.mts'),
    target.replace(/\.cjs$/, '.cts'),
    target,
  ];
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return c;
  throw new Error(
    `${from}: the import '${specifier}' names no file (tried ${candidates.join(', ')}); fix the path`,
  );
}

/** File -> the files of the tree it imports (packages and files outside the tree left out). */
export function importGraph(root: string): Map<string, string[]> {
  const files = sourceFiles(root);
  const inTree = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importSpecifiers(file)
      .filter((s) => s.startsWith('./') || s.startsWith('../'))
      .map((s) => resolveRelative(file, s))
      .filter((t) => inTree.has(t));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The circles of a graph: its strongly connected components of more than one file, and any
 * file that imports itself (Tarjan's algorithm). Each circle's files sorted, circles sorted.
 */
export function importCircles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The circles of the tree under `root`, each as paths relative to `base`. */
export function circlesUnder(root: string, base: string): string[][] {
  return importCircles(importGraph(root)).map((c) => c.map((f) => relative(base, f)));
}
