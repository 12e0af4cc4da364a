import { MirrorMetrics } from '../../src/runtime/adapters/metrics';

/** Counts what the session manager reports, for assertions. */
export class RecordingMetrics implements MirrorMetrics {
  public created = 0;
  public deleted = 0;
  public modified = 0;
  public failures: string[] = [];
  public crossZone = 0;
  public coverages: Array<{ running: number; mirrored: number }> = [];
  public flushes = 0;

  public sessionCreated(): void { this.created++; }
  public sessionDeleted(): void { this.deleted++; }
  public sessionModified(): void { this.modified++; }
  public failure(reason: string): void { this.failures.push(reason); }
  public crossZoneSession(): void { this.crossZone++; }
  public coverage(running: number, mirrored: number): void { this.coverages.push({ running, mirrored }); }
  public flush(): void { this.flushes++; }
}
