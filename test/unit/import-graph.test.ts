// The folders of the code form a layered graph: a cycle between two folders
// (say src/api -> src/ipam -> src/api) means neither can be understood, tested
// or moved without the other. This test reads the import statements of every
// .ts file under src/, the programs (controller/, speaker/, plugin/) and test/
// with TypeScript's own pre-processor (type-only imports and `export ... from`
// count too). Every folder is a node of its own, nested ones included
// (src/api/schema is not src/api), so a cycle between a folder and its
// sub-folder is caught too. It fails on any cycle, naming the imports that
// close it, and on imports that go against the layers.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './deploy-manifests.js';

/** The top folders whose code is read; node_modules, dist and build are not code of the project. */
const ROOTS = ['src', 'controller', 'speaker', 'plugin', 'test'];

/** One import that crosses folders: `from` and `to` are folders of the repository, `via` the file and its specifier. */
interface FolderEdge {
  from: string;
  to: string;
  via: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The folder a file lies in, relative to the repository, with forward slashes ('src/api/schema'). */
function folderOf(file: string): string {
  return path.relative(repoRoot, path.dirname(file)).split(path.sep).join('/');
}

/** Whether `folder` is `top` or lies below it. */
function within(folder: string, top: string): boolean {
  return folder === top || folder.startsWith(`${top}/`);
}

/** Every relative import between two different folders of the project. */
function folderEdges(): FolderEdge[] {
  const edges: FolderEdge[] = [];
  for (const file of ROOTS.flatMap((root) => sourceFiles(path.join(repoRoot, root)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), fileName);
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) edges.push({ from, to, via: `${path.relative(repoRoot, file)} -> ${fileName}` });
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

describe('folder-level import graph of src/, the programs and test/', () => {
  const edges = folderEdges();
  const from = (top: string, to: string) =>
    edges.filter((e) => within(e.from, top) && within(e.to, to)).map((e) => e.via);

  it('reads the imports (sanity: the known layers are seen)', () => {
    expect(edges.length).toBeGreaterThan(20);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/ipam', to: 'src/ip' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/kube', to: 'src/api' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/api', to: 'src/api/schema' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'speaker', to: 'src/election' }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'test/integration', to: 'test/kube' }));
  });

  it('has no cycle between folders, nested ones included', () => {
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
    expect(from('src/allocation', 'src/election')).toEqual([]);
  });

  it('keeps the pure folders away from the API server and the packet addon', () => {
    const pure = ['src/api', 'src/ip', 'src/ipam', 'src/allocation', 'src/election'];
    const io = pure.flatMap((top) => [...from(top, 'src/kube'), ...from(top, 'src/native')]);
    expect(io).toEqual([]);
  });

  it('has the election define its boundaries: what implements them imports the election, never the reverse', () => {
    // src/election/boundaries.ts declares Liveness, Wire and LeaseStore;
    // src/liveness, src/l2 and src/kube implement them.
    expect(from('src/liveness', 'src/election')).not.toEqual([]);
    expect(['src/liveness', 'src/l2', 'src/bgp'].flatMap((impl) => from('src/election', impl))).toEqual([]);
  });

  it('keeps src/ free of the programs and the tests, and the programs free of each other', () => {
    const programs = ['controller', 'speaker', 'plugin'];
    expect([...programs, 'test'].flatMap((top) => from('src', top))).toEqual([]);
    const across = programs.flatMap((a) => programs.filter((b) => b !== a).flatMap((b) => from(a, b)));
    expect(across).toEqual([]);
  });
});
