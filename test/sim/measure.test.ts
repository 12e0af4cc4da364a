import { Measure } from './measure';
import { MirroredService, World } from './world';
import { OWNER_TAG_KEY, TASK_TAG_KEY } from '../../src/contract/ownership';

jest.setTimeout(60_000);

/** Two services of 10 mirrored tasks, half of them sampled, both switched on. */
function twoServices() {
  const w = new World({ strategy: 'ours', seed: 1, services: 2, sampling: 0.5, initialSwitch: 'on' });
  for (const service of w.services) w.ecs.preexisting(10, service.name);
  w.seedSessions();
  const [a, b] = w.services;
  return { w, a, b, m: new Measure(w) };
}

const sessionOf = (w: World, service: MirroredService) => [...w.ec2.sessions.values()].find(s => s.tags[OWNER_TAG_KEY] === service.config.ownerId)!;

// The invariants are checked per service: these show they can fail.
describe('the per-service invariants', () => {
  test('hold for seeded sessions of two services, half their tasks sampled', () => {
    const { w, a, b, m } = twoServices();
    expect(m.violations()).toEqual([]);
    for (const service of [a, b]) {
      const sampled = w.ecs.running(service.name).filter(t => w.wanted(service, t)).length;
      expect(sampled).toBeGreaterThan(0);
      expect(sampled).toBeLessThan(10);
      expect(w.ownedByEni(service.config.ownerId).size).toBe(sampled);
    }
  });

  test('flag a session of one service on another service\'s task', () => {
    const { w, a, b, m } = twoServices();
    const task = w.ecs.running(b.name).find(t => w.wanted(b, t))!;
    const c = a.config;
    w.ec2.addSession(task.eni, 2, c.targetId, { [OWNER_TAG_KEY]: c.ownerId, [TASK_TAG_KEY]: task.arn }, { filterId: c.filterId });
    expect(m.violations()).toEqual([`web: owned session on dead ENI ${task.eni}`]);
  });

  test('flag a task that is not sampled but mirrored', () => {
    const { w, b, m } = twoServices();
    const task = w.ecs.running(b.name).find(t => !w.wanted(b, t))!;
    const c = b.config;
    w.ec2.addSession(task.eni, 1, c.targetId, { [OWNER_TAG_KEY]: c.ownerId, [TASK_TAG_KEY]: task.arn }, { filterId: c.filterId });
    expect(m.violations()).toEqual(['web-01: 1 running tasks mirrored that are not to be (not sampled, or switched off)']);
  });

  test('flag every session of a service whose switch is off, "on until" a past time included', () => {
    const { w, b, m } = twoServices();
    const mirrored = w.ownedByEni(b.config.ownerId).size;
    w.ssm.parameters.set(b.config.switchParameter!, 'on until 2020-01-01T00:00:00Z');
    expect(m.violations()).toEqual([`web-01: ${mirrored} running tasks mirrored that are not to be (not sampled, or switched off)`]);
  });

  test('flag, when EC2 accepts it, a delete of the only session of a task to be mirrored', () => {
    const { w, b, m } = twoServices();
    const session = sessionOf(w, b);
    w.ec2.sessions.delete(session.id);
    w.ec2.onSessionWrite({ action: 'DeleteTrafficMirrorSession', before: session, caller: 'sweep#1' });
    expect(m.violations()).toEqual(['web-01: 1 running tasks unmirrored', '1 sessions of running tasks to be mirrored deleted']);
  });

  test('flag, when EC2 accepts it, a modify to another service\'s target', () => {
    const { w, a, b, m } = twoServices();
    const session = sessionOf(w, b);
    const after = { ...session, targetId: a.config.targetId };
    w.ec2.sessions.set(session.id, after);
    w.ec2.onSessionWrite({ action: 'ModifyTrafficMirrorSession', before: session, after, caller: 'sweep#1' });
    expect(m.violations()).toEqual([
      'web-01: 1 owned sessions have a previous configuration', '1 sessions modified to another service\'s target or filter',
    ]);
  });
});
