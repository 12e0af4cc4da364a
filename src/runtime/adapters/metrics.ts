/** Adapter: the session manager's metrics through Powertools (EMF). */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC, METRIC_NAMESPACE, OWNER_DIMENSION, REASON_DIMENSION, SERVICE_DIMENSION_VALUE, STACK_DIMENSION } from '../../contract/metric-names';

/** What the session manager counts. Tests use a recording implementation. */
export interface MirrorMetrics {
  sessionCreated(): void;
  sessionDeleted(): void;
  /** An owned session was brought to the current configuration in place. */
  sessionModified(): void;
  /** A session could not be created or deleted, or a task could not be mirrored as configured. */
  failure(reason: string): void;
  /** A session was created on, or moved to, a target in another Availability Zone than its task. */
  crossZoneSession(): void;
  /** Coverage measured by a sweep. */
  coverage(running: number, mirrored: number): void;
  /** Writes what was counted (EMF lines in the function's log). */
  flush(): void;
}

/**
 * Counts triggers the stack's functions ignored (forged or stale), with the `service` and `Stack`
 * dimensions (the stack tag, from the function's environment), and publishes at once.
 */
export function ignoredTriggersPublisher(stackTag: string | undefined): (count: number) => void {
  return count => {
    if (count <= 0) return;
    const metrics = new Metrics({
      namespace: METRIC_NAMESPACE, serviceName: SERVICE_DIMENSION_VALUE, defaultDimensions: stackTag ? { [STACK_DIMENSION]: stackTag } : {},
    });
    metrics.addMetric(METRIC.IGNORED_TRIGGERS, MetricUnit.Count, count);
    metrics.publishStoredMetrics();
  };
}

/** Publishes through Powertools Metrics as CloudWatch Embedded Metric Format. */
export class EmfMirrorMetrics implements MirrorMetrics {
  private readonly metrics: Metrics;

  constructor(private readonly ownerId: string) {
    this.metrics = new Metrics({
      namespace: METRIC_NAMESPACE,
      serviceName: SERVICE_DIMENSION_VALUE,
      defaultDimensions: { [OWNER_DIMENSION]: ownerId },
    });
  }

  public sessionCreated(): void {
    this.metrics.addMetric(METRIC.SESSIONS_CREATED, MetricUnit.Count, 1);
  }

  public sessionDeleted(): void {
    this.metrics.addMetric(METRIC.SESSIONS_DELETED, MetricUnit.Count, 1);
  }

  public sessionModified(): void {
    this.metrics.addMetric(METRIC.SESSIONS_MODIFIED, MetricUnit.Count, 1);
  }

  public failure(reason: string): void {
    this.metrics.addMetric(METRIC.SESSION_FAILURES, MetricUnit.Count, 1);
    // The breakdown needs its own dimension set, so it goes out as a separate EMF document.
    const single = this.metrics.singleMetric();
    single.addDimension(OWNER_DIMENSION, this.ownerId);
    single.addDimension(REASON_DIMENSION, reason);
    single.addMetric(METRIC.SESSION_FAILURES, MetricUnit.Count, 1);
  }

  public crossZoneSession(): void {
    this.metrics.addMetric(METRIC.CROSS_ZONE_SESSIONS, MetricUnit.Count, 1);
  }

  public coverage(running: number, mirrored: number): void {
    this.metrics.addMetric(METRIC.RUNNING_TASKS, MetricUnit.Count, running);
    this.metrics.addMetric(METRIC.MIRRORED_TASKS, MetricUnit.Count, mirrored);
    this.metrics.addMetric(METRIC.UNMIRRORED_TASKS, MetricUnit.Count, running - mirrored);
  }

  public flush(): void {
    this.metrics.publishStoredMetrics();
  }
}
