// The folders of src/ form a layered graph: a cycle between two folders (say
// api -> ipam -> api) means neither can be understood, tested or moved without
// the other. This test reads the import statements of every src/**/*.ts with
// TypeScript's own pre-processor (type-only imports and `export ... from`
// count too) and fails on any folder-level cycle, naming the imports that
// close it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './deploy-manifests.js';

const SRC = path.join(repoRoot, 'src');

/** One import that crosses folders: `from` and `to` are folders under src/, `via` the file and its specifier. */
interface FolderEdge {
  from: string;
  to: string;
  via: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The folder under src/ a path lies in ('.' for a file directly in src/). */
function folderOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 ? parts[0]! : '.';
}

/** Every relative import between two different folders under src/. */
function folderEdges(): FolderEdge[] {
  const edges: FolderEdge[] = [];
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), fileName);
      if (path.relative(SRC, target).startsWith('..')) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) edges.push({ from, to, via: `${path.relative(SRC, file)} -> ${fileName}` });
    }
  }
  return edges;
}

/** The groups of two or more folders that reach each other (Tarjan's strongly connected components), sorted. */
function folderCycles(edges: readonly FolderEdge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    if (!next.has(to)) next.set(to, new Set());
    next.get(from)!.add(to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return groups.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The imports inside one cycle, for the failure message. */
function describeCycle(group: readonly string[], edges: readonly FolderEdge[]): string {
  const inside = edges.filter((e) => group.includes(e.from) && group.includes(e.to));
  return `${group.join(' <-> ')}:\n${inside.map((e) => `  ${e.from} -> ${e.to}: ${e.via}`).join('\n')}`;
}

describe('folder-level import graph of src/', () => {
  const edges = folderEdges();

  it('reads the imports (sanity: the known layers are seen)', () => {
    expect(edges.length).toBeGreaterThan(20);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'ipam', to: 'ip' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'kube', to: 'api' }));
  });

  it('has no cycle between folders', () => {
    const cycles = folderCycles(edges).map((group) => describeCycle(group, edges));
    expect(cycles, cycles.join('\n')).toEqual([]);
  });

  it('finds a cycle when there is one, of two folders or more', () => {
    const edge = (from: string, to: string): FolderEdge => ({ from, to, via: `${from}/x.ts -> ../${to}/y.js` });
    expect(folderCycles([edge('api', 'ip'), edge('ipam', 'api')])).toEqual([]);
    expect(folderCycles([edge('api', 'ipam'), edge('ipam', 'api'), edge('kube', 'api')])).toEqual([['api', 'ipam']]);
    const twoLoops = [edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('d', 'e'), edge('e', 'd')];
    expect(folderCycles(twoLoops)).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('keeps the controller apart from the speaker: src/allocation imports nothing from src/election', () => {
    expect(edges.filter((e) => e.from === 'allocation' && e.to === 'election').map((e) => e.via)).toEqual([]);
  });

  it('keeps the pure folders away from the API server and the packet addon', () => {
    const pure = ['api', 'ip', 'ipam', 'allocation', 'election'];
    const io = edges.filter((e) => pure.includes(e.from) && (e.to === 'kube' || e.to === 'native'));
    expect(io.map((e) => e.via)).toEqual([]);
  });
});
