// @ts-check
'use strict';
/**
 * A VXLAN receiver for VPC Traffic Mirroring, small enough to read.
 *
 * Traffic Mirroring wraps every mirrored packet in VXLAN (RFC 7348) and sends it over UDP to port
 * 4789 of the target. Behind a Network Load Balancer, this program:
 * - listens on UDP 4789 and decodes each datagram: the 8-byte VXLAN header, then the mirrored
 *   frame: Ethernet (with up to two VLAN tags), IPv4 or IPv6 (skipping IPv6 extension headers),
 *   then TCP or UDP;
 * - counts datagrams, packets by family and protocol, truncated packets (a session's
 *   `packetLength` cuts the mirrored frame: the IP header then promises more than arrived),
 *   malformed datagrams by reason, and packets whose captured payload holds the marker;
 * - answers the load balancer's health check on HTTP (a UDP target group is health-checked over
 *   TCP, HTTP or HTTPS) with those counters as JSON;
 * - logs JSON lines: `listening`, `marker` (the first `markerLogLimit` hits), `malformed` (the
 *   first `malformedLogLimit`), and `stats` every `statsIntervalSeconds`.
 *
 * Only Node.js built-ins, so it runs in a stock `node` image with the source passed on the
 * command line: `node -e "$(cat receiver.js)" serve`. Configuration by environment:
 * RECEIVER_UDP_PORT (4789), RECEIVER_HTTP_PORT (8080), RECEIVER_MARKER (required),
 * RECEIVER_STATS_INTERVAL_SECONDS (60).
 */
const dgram = require('node:dgram');
const http = require('node:http');

/** RFC 7348, section 5: the VXLAN header is 8 bytes; flags are the first byte. */
const VXLAN_HEADER_BYTES = 8;
/** RFC 7348: "I flag MUST be set to 1 for a valid VXLAN Network ID (VNI)". */
const VXLAN_I_FLAG = 0x08;
const ETHERNET_HEADER_BYTES = 14;
const VLAN_TAG_BYTES = 4;
const ETHERTYPE = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8 };
const IPV6_HEADER_BYTES = 40;
/** IPv6 extension headers that can come before the transport header, by next-header value. */
const IPV6_EXTENSIONS = { HOP_BY_HOP: 0, ROUTING: 43, FRAGMENT: 44, AUTHENTICATION: 51, DESTINATION: 60 };
const PROTOCOL_NAMES = /** @type {Record<number, string>} */ ({ 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' });

/**
 * What one datagram held.
 * @typedef {object} Decoded
 * @property {number} vni VXLAN network identifier (the session's virtualNetworkId)
 * @property {'ipv4' | 'ipv6' | 'other'} family
 * @property {number} [etherType] when family is 'other'
 * @property {string} [source] inner source address
 * @property {string} [destination] inner destination address
 * @property {string} [protocol] 'tcp', 'udp', 'icmp', 'icmpv6' or the protocol number
 * @property {number} [sourcePort]
 * @property {number} [destinationPort]
 * @property {boolean} truncated fewer bytes arrived than the headers announce
 * @property {Buffer} payload the captured bytes after the last header decoded
 */

/** A datagram that is not a VXLAN-encapsulated frame we can read. */
class Malformed extends Error {
  /** @param {string} reason */
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

/**
 * Decodes one UDP payload: VXLAN, then as much of the mirrored frame as arrived.
 * @param {Buffer} datagram
 * @returns {Decoded}
 * @throws {Malformed} for anything that is not VXLAN or whose headers are invalid (not merely cut short)
 */
function decode(datagram) {
  if (datagram.length < VXLAN_HEADER_BYTES) throw new Malformed('short-vxlan-header');
  if ((datagram[0] & VXLAN_I_FLAG) === 0) throw new Malformed('vxlan-i-flag-clear');
  const vni = datagram.readUIntBE(4, 3);
  const frame = datagram.subarray(VXLAN_HEADER_BYTES);

  // A session's packetLength counts from the first byte after the VXLAN header, so any header
  // below may be cut short: that is a truncated packet, not a malformed one.
  if (frame.length < ETHERNET_HEADER_BYTES) return { vni, family: 'other', truncated: true, payload: frame };
  let offset = 12;
  let etherType = frame.readUInt16BE(offset);
  while (etherType === ETHERTYPE.VLAN || etherType === ETHERTYPE.QINQ) {
    offset += VLAN_TAG_BYTES;
    if (frame.length < offset + 2) return { vni, family: 'other', truncated: true, payload: frame.subarray(frame.length) };
    etherType = frame.readUInt16BE(offset);
  }
  offset += 2;
  if (etherType === ETHERTYPE.IPV4) return { vni, ...decodeIpv4(frame, offset) };
  if (etherType === ETHERTYPE.IPV6) return { vni, ...decodeIpv6(frame, offset) };
  return { vni, family: 'other', etherType, truncated: false, payload: frame.subarray(offset) };
}

/**
 * @param {Buffer} frame
 * @param {number} start where the IPv4 header begins
 * @returns {Omit<Decoded, 'vni'>}
 */
function decodeIpv4(frame, start) {
  if (frame.length < start + 20) return { family: 'ipv4', truncated: true, payload: frame.subarray(frame.length) };
  const version = frame[start] >> 4;
  const headerBytes = (frame[start] & 0x0f) * 4;
  if (version !== 4) throw new Malformed('ipv4-version');
  if (headerBytes < 20) throw new Malformed('ipv4-header-length');
  const totalLength = frame.readUInt16BE(start + 2);
  if (totalLength < headerBytes) throw new Malformed('ipv4-total-length');
  const fragmentOffset = frame.readUInt16BE(start + 6) & 0x1fff;
  const protocolNumber = frame[start + 9];
  const source = [...frame.subarray(start + 12, start + 16)].join('.');
  const destination = [...frame.subarray(start + 16, start + 20)].join('.');
  // Ethernet pads short frames: the IP total length, not the frame, says where the packet ends.
  const end = Math.min(frame.length, start + totalLength);
  const truncated = frame.length < start + totalLength;
  const ip = { family: /** @type {const} */ ('ipv4'), source, destination };
  if (frame.length < start + headerBytes) {
    return { ...ip, protocol: protocolName(protocolNumber), truncated: true, payload: frame.subarray(frame.length) };
  }
  // Only the first fragment carries the transport header.
  if (fragmentOffset !== 0) return { ...ip, protocol: protocolName(protocolNumber), truncated, payload: frame.subarray(start + headerBytes, end) };
  return { ...ip, ...decodeTransport(protocolNumber, frame, start + headerBytes, end, truncated) };
}

/**
 * @param {Buffer} frame
 * @param {number} start where the IPv6 header begins
 * @returns {Omit<Decoded, 'vni'>}
 */
function decodeIpv6(frame, start) {
  if (frame.length < start + IPV6_HEADER_BYTES) return { family: 'ipv6', truncated: true, payload: frame.subarray(frame.length) };
  if (frame[start] >> 4 !== 6) throw new Malformed('ipv6-version');
  const payloadLength = frame.readUInt16BE(start + 4);
  const source = ipv6Text(frame.subarray(start + 8, start + 24));
  const destination = ipv6Text(frame.subarray(start + 24, start + 40));
  const end = Math.min(frame.length, start + IPV6_HEADER_BYTES + payloadLength);
  const truncated = frame.length < start + IPV6_HEADER_BYTES + payloadLength;
  const ip = { family: /** @type {const} */ ('ipv6'), source, destination };
  let next = frame[start + 6];
  let offset = start + IPV6_HEADER_BYTES;
  for (;;) {
    let length;
    if (next === IPV6_EXTENSIONS.HOP_BY_HOP || next === IPV6_EXTENSIONS.ROUTING || next === IPV6_EXTENSIONS.DESTINATION) {
      length = offset + 2 <= end ? (frame[offset + 1] + 1) * 8 : undefined;
    } else if (next === IPV6_EXTENSIONS.FRAGMENT) {
      // A later fragment has no transport header.
      if (offset + 4 <= end && (frame.readUInt16BE(offset + 2) >> 3) !== 0) {
        return { ...ip, protocol: protocolName(frame[offset]), truncated, payload: frame.subarray(Math.min(offset + 8, end), end) };
      }
      length = 8;
    } else if (next === IPV6_EXTENSIONS.AUTHENTICATION) {
      length = offset + 2 <= end ? (frame[offset + 1] + 2) * 4 : undefined;
    } else {
      return { ...ip, ...decodeTransport(next, frame, offset, end, truncated) };
    }
    if (length === undefined || offset + length > end) {
      return { ...ip, truncated: true, payload: frame.subarray(end) };
    }
    next = frame[offset];
    offset += length;
  }
}

/**
 * @param {number} protocolNumber
 * @param {Buffer} frame
 * @param {number} start where the transport header begins
 * @param {number} end where the IP packet ends (or the captured bytes, when fewer)
 * @param {boolean} truncated whether the IP packet was cut short
 * @returns {Pick<Decoded, 'protocol' | 'sourcePort' | 'destinationPort' | 'truncated' | 'payload'>}
 */
function decodeTransport(protocolNumber, frame, start, end, truncated) {
  const protocol = protocolName(protocolNumber);
  const headerBytes = protocol === 'tcp' ? 20 : protocol === 'udp' ? 8 : 0;
  if (headerBytes === 0) return { protocol, truncated, payload: frame.subarray(start, end) };
  if (end < start + headerBytes) return { protocol, truncated: true, payload: frame.subarray(end) };
  const ports = { sourcePort: frame.readUInt16BE(start), destinationPort: frame.readUInt16BE(start + 2) };
  if (protocol === 'udp') return { protocol, ...ports, truncated, payload: frame.subarray(start + 8, end) };
  const dataOffset = (frame[start + 12] >> 4) * 4;
  if (dataOffset < 20) throw new Malformed('tcp-data-offset');
  if (end < start + dataOffset) return { protocol, ...ports, truncated: true, payload: frame.subarray(end) };
  return { protocol, ...ports, truncated, payload: frame.subarray(start + dataOffset, end) };
}

/** @param {number} n */
function protocolName(n) {
  return PROTOCOL_NAMES[n] ?? String(n);
}

/**
 * RFC 5952 text form: lower case, leading zeros dropped, the longest run of two or more zero
 * groups (the first, on a tie) as `::`.
 * @param {Buffer} bytes 16 bytes
 */
function ipv6Text(bytes) {
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { at: i, length: j - i };
    i = j > i ? j : i + 1;
  }
  const hex = groups.map(g => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

/**
 * @typedef {object} ReceiverOptions
 * @property {string} marker bytes (UTF-8) whose presence in a packet's captured payload counts as a hit
 * @property {number} [udpPort] 4789 unless given; 0 picks a free port
 * @property {number} [httpPort] 8080 unless given; 0 picks a free port
 * @property {string} [host] address to bind both sockets to; '127.0.0.1' unless given
 * @property {(line: string) => void} [log] where JSON lines go; standard output unless given
 * @property {number} [statsIntervalSeconds] 0 (the default) logs no periodic `stats` line
 * @property {number} [markerLogLimit] marker hits logged one by one per VNI, 20 unless given
 * @property {number} [malformedLogLimit] malformed datagrams logged one by one, 20 unless given
 */

/**
 * Starts the receiver.
 * @param {ReceiverOptions} options
 */
async function startReceiver(options) {
  if (!options.marker) throw new Error('a marker is required (RECEIVER_MARKER)');
  const marker = Buffer.from(options.marker, 'utf8');
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (line => process.stdout.write(`${line}\n`));
  const emit = (/** @type {string} */ event, /** @type {object} */ fields) => {
    log(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
  };
  const markerLogLimit = options.markerLogLimit ?? 20;
  const malformedLogLimit = options.malformedLogLimit ?? 20;
  const stats = {
    datagrams: 0,
    bytes: 0,
    packets: 0,
    ipv4: 0,
    ipv6: 0,
    otherEtherType: 0,
    tcp: 0,
    udp: 0,
    otherProtocol: 0,
    truncated: 0,
    markerHits: 0,
    malformed: 0,
    /** @type {Record<string, number>} */
    malformedByReason: {},
    /** @type {Record<string, number>} */
    packetsByVni: {},
  };

  /** @type {Record<string, number>} */
  const markerHitsByVni = {};

  /** @param {Buffer} datagram @param {dgram.RemoteInfo} from */
  const onDatagram = (datagram, from) => {
    stats.datagrams++;
    stats.bytes += datagram.length;
    let packet;
    try {
      packet = decode(datagram);
    } catch (error) {
      const reason = error instanceof Malformed ? error.reason : 'decoder-error';
      stats.malformed++;
      stats.malformedByReason[reason] = (stats.malformedByReason[reason] ?? 0) + 1;
      if (stats.malformed <= malformedLogLimit) emit('malformed', { reason, from: from.address, bytes: datagram.length });
      return;
    }
    stats.packets++;
    stats.packetsByVni[packet.vni] = (stats.packetsByVni[packet.vni] ?? 0) + 1;
    if (packet.family === 'other') stats.otherEtherType++;
    else stats[packet.family]++;
    if (packet.protocol === 'tcp' || packet.protocol === 'udp') stats[packet.protocol]++;
    else if (packet.protocol !== undefined) stats.otherProtocol++;
    if (packet.truncated) stats.truncated++;
    if (packet.payload.includes(marker)) {
      stats.markerHits++;
      // Per VNI, so one busy source (a Traffic Mirroring session) cannot use up the log lines of
      // another (the capture sidecar's VNI).
      markerHitsByVni[packet.vni] = (markerHitsByVni[packet.vni] ?? 0) + 1;
      if (markerHitsByVni[packet.vni] <= markerLogLimit) {
        const { payload, ...headers } = packet;
        emit('marker', { ...headers, capturedPayloadBytes: payload.length, markerHits: stats.markerHits, from: from.address });
      }
    }
  };

  const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', onDatagram);
  const health = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(stats));
  });
  await new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(options.udpPort ?? 4789, host, () => resolve(undefined));
  });
  await new Promise((resolve, reject) => {
    health.once('error', reject);
    health.listen(options.httpPort ?? 8080, host, () => resolve(undefined));
  });
  const udpPort = udp.address().port;
  const address = health.address();
  const httpPort = typeof address === 'object' && address ? address.port : 0;
  const interval = options.statsIntervalSeconds ? setInterval(() => emit('stats', stats), options.statsIntervalSeconds * 1000) : undefined;
  emit('listening', { udpPort, httpPort, host, marker: options.marker });

  return {
    udpPort,
    httpPort,
    /** The counters, as the health check answers them. */
    stats: () => JSON.parse(JSON.stringify(stats)),
    /** Stops both sockets. */
    close: async () => {
      if (interval) clearInterval(interval);
      udp.close();
      await new Promise(resolve => health.close(() => resolve(undefined)));
    },
  };
}

/** Runs in the container: configuration from the environment, both sockets on every address. */
async function main() {
  const port = (/** @type {string} */ name, /** @type {number} */ fallback) => Number(process.env[name] || fallback);
  const receiver = await startReceiver({
    marker: process.env.RECEIVER_MARKER ?? '',
    udpPort: port('RECEIVER_UDP_PORT', 4789),
    httpPort: port('RECEIVER_HTTP_PORT', 8080),
    host: '0.0.0.0',
    statsIntervalSeconds: port('RECEIVER_STATS_INTERVAL_SECONDS', 60),
  });
  process.on('SIGTERM', () => {
    receiver.close().then(() => process.exit(0), () => process.exit(1));
  });
}

module.exports = { decode, startReceiver, ipv6Text, Malformed, VXLAN_I_FLAG };

if (require.main === module || process.argv[1] === 'serve') {
  main().catch(error => {
    process.stderr.write(`${JSON.stringify({ event: 'fatal', error: String(error) })}\n`);
    process.exit(1);
  });
}
