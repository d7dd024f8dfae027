// The view's bookkeeping against an in-memory supervisor (the Upstream interface): what is fetched when.
import * as grpc from '@grpc/grpc-js';
import type { containersV1 } from '@berth/api';
import type { Envelope } from '@berth/events';
import { ContainerView } from './container-view';
import { AmbiguousContainerError, ContainerNotFoundError } from './errors';
import { sampleContainer } from './sample-container.spec-fixture';
import { UpstreamCallError, type Upstream } from './upstream';

class MemorySupervisor implements Upstream {
  readonly byId = new Map<string, containersV1.Container>();
  lists = 0;
  gets: string[] = [];
  async listContainers() {
    this.lists++;
    return [...this.byId.values()].map((c) => structuredClone(c));
  }
  // Resolves as the supervisor does: id, name, then unique prefix.
  async getContainer(ref: string) {
    this.gets.push(ref);
    let c = this.byId.get(ref) ?? [...this.byId.values()].find((x) => x.name === ref);
    if (!c) {
      const hits = [...this.byId.values()].filter((x) => x.id.startsWith(ref));
      if (hits.length > 1) throw new UpstreamCallError('supervisor', grpc.status.FAILED_PRECONDITION, `${ref} is ambiguous`);
      c = hits[0];
    }
    if (!c) throw new UpstreamCallError('supervisor', grpc.status.NOT_FOUND, `no such container ${ref}`);
    return structuredClone(c);
  }
  async listNetworks() {
    return [];
  }
  async getImage(): Promise<never> {
    throw new Error('not used');
  }
  async snapshotUsage() {
    return { size: 0, inodes: 0 };
  }
  async snapshotStat(): Promise<never> {
    throw new Error('not used');
  }
  close() {}
}

const ev = (topic: string, subjectId: string): Envelope => ({ id: '1', time: new Date(), topic, source: 'supervisor', node: 'n', subjectId, attributes: {}, body: undefined });

it('lists once, then fetches only what events named, and everything again after a supervisor start', async () => {
  const sup = new MemorySupervisor();
  const a = sampleContainer({ id: 'ab' + '1'.repeat(62), name: 'one' });
  const b = sampleContainer({ id: 'ab' + '2'.repeat(62), name: 'two' });
  sup.byId.set(a.id, a);
  sup.byId.set(b.id, b);
  const view = new ContainerView(sup, 60_000);
  expect(await view.resolve('two')).toBe(b.id);
  expect(await view.resolve('/one')).toBe(a.id);
  expect(await view.resolve('ab1')).toBe(a.id);
  expect(await view.resolve(a.id)).toBe(a.id);
  expect(sup.lists).toBe(1);
  await expect(view.resolve('ab')).rejects.toThrow(AmbiguousContainerError);
  await expect(view.resolve('ab')).rejects.toThrow('ab1111111111 (one), ab2222222222 (two)');
  const lists = sup.lists;

  sup.gets = [];
  sup.byId.get(a.id)!.state!.status = 'exited';
  view.onEvent(ev('container.die', a.id));
  await view.refresh();
  expect(view.all().find((c) => c.id === a.id)!.state!.status).toBe('exited');
  expect([sup.lists, sup.gets]).toEqual([lists, [a.id]]);

  sup.byId.delete(b.id);
  view.onEvent(ev('container.destroy', b.id));
  await expect(view.resolve('two')).rejects.toThrow(ContainerNotFoundError);

  view.onEvent(ev('service.start', 'supervisor'));
  await view.refresh();
  expect(sup.lists).toBe(lists + 1);
});

it('resolves a name or prefix by the supervisor, so a create or rename not yet announced is seen', async () => {
  const sup = new MemorySupervisor();
  const view = new ContainerView(sup, 60_000);
  await view.refresh();
  const c = sampleContainer({ id: 'cd' + '3'.repeat(62), name: 'late' });
  sup.byId.set(c.id, c);
  expect(await view.resolve('late')).toBe(c.id);
  // A second one sharing the prefix appears without its event: the prefix is ambiguous, not the first one.
  sup.byId.set('cd3' + '4'.repeat(61), sampleContainer({ id: 'cd3' + '4'.repeat(61), name: 'later' }));
  await expect(view.resolve('cd3')).rejects.toThrow(AmbiguousContainerError);
  await expect(view.resolve('nothere')).rejects.toThrow('no such container: nothere');
});
