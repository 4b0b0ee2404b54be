#!/usr/bin/env node
// kubectl-ironlb: the kubectl plugin (`kubectl ironlb ...`). Wiring only:
// the commands live in src/plugin, the API calls in src/kube.
import { readFile } from 'node:fs/promises';
import { connectPluginCluster } from '../src/kube/plugin-cluster.js';
import { runPlugin } from '../src/plugin/run.js';

const readInput = async (path: string): Promise<string> => {
  if (path !== '-') return readFile(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const code = await runPlugin(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: readInput,
  connect: connectPluginCluster,
  now: Date.now,
});
process.exitCode = code;
