/**
 * The capture agent (Go, capture-agent/) and the TypeScript side agree: the agent reads every
 * variable the construct writes and publishes every metric the construct alarms on, and its
 * target placement and sampling give the session manager's answers on the agent's own vectors
 * (capture-agent/testdata/placement-vectors.json, written by the Go code).
 */
import * as fs from 'fs';
import * as path from 'path';
import { AGENT_ENV, AGENT_HEALTH_COMMAND, AGENT_METRIC } from '../../src/contract/capture-agent-env';
import { RECEIVER_ENTRY_POINT, RECEIVER_ENV, RECEIVER_HEALTH_COMMAND, RECEIVER_METRIC } from '../../src/contract/receiver-env';
import { TargetSpec } from '../../src/contract/target-layout';
import { isSampled } from '../../src/runtime/core/sampling';
import { candidateTargets } from '../../src/runtime/core/target-placement';

const AGENT = path.join(__dirname, '..', '..', 'capture-agent');
const read = (file: string) => fs.readFileSync(path.join(AGENT, file), 'utf8');
const vectors = JSON.parse(read('testdata/placement-vectors.json'));

describe('capture agent contract', () => {
  test.each(Object.values(AGENT_ENV))('the agent reads %s', name => {
    expect(read('internal/config/config.go')).toContain(`"${name}"`);
  });

  test.each(Object.values(AGENT_METRIC))('the agent publishes %s', name => {
    expect(read('internal/metrics/metrics.go')).toContain(`"${name}"`);
  });

  test.each(Object.values(RECEIVER_ENV))('the receiver reads %s', name => {
    expect(read('internal/receiver/config.go')).toContain(`"${name}"`);
  });

  test.each(Object.values(RECEIVER_METRIC))('the receiver publishes %s', name => {
    expect(read('internal/receiver/emf.go')).toContain(`"${name}"`);
  });

  test('the receiver is in the image at the entry point the construct sets, with its health subcommand', () => {
    expect(RECEIVER_HEALTH_COMMAND[1]).toBe(RECEIVER_ENTRY_POINT[0]);
    expect(read('Dockerfile')).toContain(`COPY --from=build /out/mirror-receiver ${RECEIVER_ENTRY_POINT[0]}`);
    expect(read('Dockerfile')).toContain('./cmd/mirror-receiver');
    expect(read('cmd/mirror-receiver/main.go')).toContain(`"${RECEIVER_HEALTH_COMMAND[2]}"`);
  });

  test('the health command is a subcommand of the binary the image starts', () => {
    expect(AGENT_HEALTH_COMMAND[0]).toBe('CMD');
    expect(read('Dockerfile')).toContain(`COPY --from=build /out/capture-agent ${AGENT_HEALTH_COMMAND[1]}`);
    expect(read('cmd/capture-agent/main.go')).toContain(`"${AGENT_HEALTH_COMMAND[2]}"`);
  });

  test('placement: the session manager\'s candidateTargets gives the agent\'s order on every vector', () => {
    expect(vectors.placement.length).toBeGreaterThanOrEqual(8);
    for (const v of vectors.placement) {
      const targets: TargetSpec[] = v.targets.map((t: string, i: number) => ({
        targetId: t, ...(v.zones && v.zones[i] !== '*' ? { availabilityZone: v.zones[i] } : {}),
      }));
      const layout = { targetId: targets[0].targetId, targets, allowCrossZone: v.allowCrossZone };
      const order = candidateTargets(layout, v.taskId, v.zone).map(c => c.targetId);
      expect({ task: v.taskId, order }).toEqual({ task: v.taskId, order: v.expected });
    }
  });

  test('sampling: the session manager\'s isSampled chooses the tasks the agent chooses', () => {
    expect(vectors.sampling.length).toBeGreaterThanOrEqual(10);
    expect(vectors.sampling.some((s: any) => s.chosen)).toBe(true);
    expect(vectors.sampling.some((s: any) => !s.chosen)).toBe(true);
    for (const s of vectors.sampling) {
      const got = { task: s.taskId, sampling: s.sampling, chosen: isSampled(s.taskId, s.sampling) };
      expect(got).toEqual({ task: s.taskId, sampling: s.sampling, chosen: s.chosen });
    }
  });
});
