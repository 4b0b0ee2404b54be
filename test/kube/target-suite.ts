// The set-up every test file over apiTargets() repeats, in one place: inside
// a describe, start the target once, and give each test a namespace of its
// own, deleted after it. Apart from targets.ts because it registers vitest
// hooks, and targets.ts also runs outside vitest (the lab, from dist/).
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createTestNamespace, deleteTestNamespace, type ApiTarget, type TargetFactory } from './targets.js';

export interface TargetHooks {
  /** The target is up: make the clients here. */
  started(target: ApiTarget): void;
  /** This test's namespace (created before it, deleted after it). */
  namespace?(name: string): void;
}

export function useApiTarget(factory: TargetFactory, hooks: TargetHooks): void {
  let target: ApiTarget | undefined;
  let namespace: string | undefined;
  const up = (): ApiTarget => {
    if (!target) throw new Error(`${factory.name}: the API target did not start`);
    return target;
  };
  beforeAll(async () => {
    target = await factory.start();
    hooks.started(target);
  });
  afterAll(async () => {
    await target?.stop();
  });
  if (!hooks.namespace) return;
  const give = hooks.namespace;
  beforeEach(async () => {
    namespace = await createTestNamespace(up().kubeConfig);
    give(namespace);
  });
  afterEach(async () => {
    if (namespace !== undefined) await deleteTestNamespace(up().kubeConfig, namespace);
    namespace = undefined;
  });
}
