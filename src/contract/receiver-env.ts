/**
 * Contract: the environment of the `MirrorReceiver`'s receiver container, the receiver program's
 * whole configuration (capture-agent/cmd/mirror-receiver reads the same names), and the names of
 * the metrics it publishes. Imports nothing.
 */

/** The receiver container's name in its task definition. */
export const RECEIVER_CONTAINER_NAME = 'receiver';

/** The receiver program's variables, by meaning. */
export const RECEIVER_ENV = {
  /** The bucket the pcap files and index lines go to. */
  BUCKET: 'MIRROR_RECEIVER_BUCKET',
  /** The key prefix of every object, ending in `/` or empty. */
  PREFIX: 'MIRROR_RECEIVER_PREFIX',
  /** The bucket's region. */
  REGION: 'AWS_REGION',
  /** A file is closed and uploaded after this many seconds. */
  ROTATE_SECONDS: 'MIRROR_RECEIVER_ROTATE_SECONDS',
  /** ... or once it holds this many bytes. */
  ROTATE_BYTES: 'MIRROR_RECEIVER_ROTATE_BYTES',
  /** The UDP address of the VXLAN stream (`:4789`). */
  LISTEN: 'MIRROR_RECEIVER_LISTEN',
  /** TCP port the load balancer's health check connects to. */
  HEALTH_PORT: 'MIRROR_RECEIVER_HEALTH_PORT',
  /** Seconds the receiver takes at most, after SIGTERM, to close and upload every file. */
  STOP_SECONDS: 'MIRROR_RECEIVER_STOP_TIMEOUT_SECONDS',
  /** Where pcap files are written before they are uploaded (kept there until an upload succeeds). */
  SPOOL_DIR: 'MIRROR_RECEIVER_SPOOL_DIR',
  /** The KMS key objects are encrypted with; unset: the bucket's default encryption. */
  KMS_KEY_ID: 'MIRROR_RECEIVER_KMS_KEY_ID',
  /** The `Receiver` dimension of its metrics. */
  NAME: 'MIRROR_RECEIVER_NAME',
  /**
   * `packet`: read the VXLAN datagrams through an AF_PACKET ring (NET_RAW), whose size a Fargate
   * task sets itself, instead of a UDP socket, whose buffer `net.core.rmem_max` caps (a task
   * cannot raise it). bench/receiver-results.json measures both.
   */
  READ: 'MIRROR_RECEIVER_READ',
} as const;

/** The receiver program's path in the image (the capture agent's image carries both programs). */
export const RECEIVER_ENTRY_POINT = ['/mirror-receiver'];

/** The receiver container's health command (CMD form: the image has no shell). */
export const RECEIVER_HEALTH_COMMAND = ['CMD', '/mirror-receiver', 'health'];

/** The receiver's metric names (CloudWatch Embedded Metric Format on stdout). */
export const RECEIVER_METRIC = {
  RECEIVED_PACKETS: 'ReceivedPackets',
  RECEIVED_BYTES: 'ReceivedBytes',
  MALFORMED_DATAGRAMS: 'MalformedDatagrams',
  FILES_UPLOADED: 'FilesUploaded',
  BYTES_UPLOADED: 'BytesUploaded',
  UPLOAD_FAILURES: 'UploadFailures',
  FLUSHED_AT_STOP: 'FlushedAtStop',
} as const;

/** The dimension that names one receiver in its metrics. */
export const RECEIVER_DIMENSION = 'Receiver';
