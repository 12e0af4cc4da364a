/* eslint-disable no-bitwise */ // Packets are built byte by byte, as the RFCs lay out their fields.
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import * as fc from 'fast-check';
import { Malformed, VXLAN_I_FLAG, decode, ipv6Text, startReceiver } from './receiver/receiver.js';

/**
 * The integration test's packet receiver, fed real VXLAN datagrams over the loopback interface.
 * Every packet is built here byte by byte, as Traffic Mirroring sends them: an 8-byte VXLAN
 * header (RFC 7348, section 5), then the mirrored Ethernet frame.
 */

const MARKER = 'ftm-integ-marker-7f3c';

/** RFC 7348, section 5: flags (I = 0x08), 24 reserved bits, the 24-bit VNI, 8 reserved bits. */
function vxlan(vni: number, frame: Buffer, flags = VXLAN_I_FLAG): Buffer {
  return Buffer.concat([Buffer.from([flags, 0, 0, 0, (vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff, 0]), frame]);
}

/** IEEE 802.3: destination and source MAC, optional 802.1Q tags, EtherType, payload. */
function ethernet(etherType: number, payload: Buffer, vlanIds: number[] = []): Buffer {
  const macs = Buffer.from([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02]);
  const tags = vlanIds.map(id => Buffer.from([0x81, 0x00, (id >> 8) & 0x0f, id & 0xff]));
  return Buffer.concat([macs, ...tags, u16(etherType), payload]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** RFC 791 header checksum: one's complement of the one's complement sum of 16-bit words. */
function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

interface Ipv4Options {
  readonly source?: string;
  readonly destination?: string;
  readonly protocol: number;
  readonly payload: Buffer;
  /** Words of header (5 without options). */
  readonly ihl?: number;
  readonly version?: number;
  /** In 8-byte units. */
  readonly fragmentOffset?: number;
}

/** RFC 791: a 20-byte header (plus options when ihl > 5), then the payload. */
function ipv4(o: Ipv4Options): Buffer {
  const ihl = o.ihl ?? 5;
  const header = Buffer.alloc(Math.max(ihl, 5) * 4);
  header[0] = ((o.version ?? 4) << 4) | ihl;
  header.writeUInt16BE(header.length + o.payload.length, 2);
  header.writeUInt16BE(0x1234, 4);
  header.writeUInt16BE(o.fragmentOffset ?? 0, 6);
  header[8] = 64;
  header[9] = o.protocol;
  Buffer.from((o.source ?? '10.0.1.23').split('.').map(Number)).copy(header, 12);
  Buffer.from((o.destination ?? '10.0.2.34').split('.').map(Number)).copy(header, 16);
  header.writeUInt16BE(checksum(header), 10);
  return Buffer.concat([header, o.payload]);
}

/** RFC 8200: a 40-byte header, then extension headers and the payload; addresses as 16 bytes. */
function ipv6(nextHeader: number, payload: Buffer, source = ipv6Bytes(0x20010db8, 1), destination = ipv6Bytes(0x20010db8, 2)): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0x60000000, 0);
  header.writeUInt16BE(payload.length, 4);
  header[6] = nextHeader;
  header[7] = 64;
  source.copy(header, 8);
  destination.copy(header, 24);
  return Buffer.concat([header, payload]);
}

function ipv6Bytes(prefix: number, last: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(prefix, 0);
  b.writeUInt16BE(last, 14);
  return b;
}

/** RFC 8200, section 4.3: a hop-by-hop or destination options header of 8 bytes (PadN). */
function optionsHeader(next: number): Buffer {
  return Buffer.from([next, 0, 1, 4, 0, 0, 0, 0]);
}

/** RFC 9293: ports, sequence and acknowledgment numbers, data offset, flags (PSH+ACK), window. */
function tcp(sourcePort: number, destinationPort: number, payload: Buffer, dataOffsetWords = 5): Buffer {
  const header = Buffer.alloc(Math.max(dataOffsetWords, 5) * 4);
  header.writeUInt16BE(sourcePort, 0);
  header.writeUInt16BE(destinationPort, 2);
  header.writeUInt32BE(1000, 4);
  header.writeUInt32BE(2000, 8);
  header[12] = dataOffsetWords << 4;
  header[13] = 0x18;
  header.writeUInt16BE(65535, 14);
  return Buffer.concat([header, payload]);
}

/** RFC 768: ports, length, checksum (0: none). */
function udp(sourcePort: number, destinationPort: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(sourcePort, 0);
  header.writeUInt16BE(destinationPort, 2);
  header.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([header, payload]);
}

const httpRequest = Buffer.from(`GET /${MARKER} HTTP/1.1\r\nHost: receiver\r\n\r\n`);
const TCP = 6;
const UDP = 17;
/** A mirrored HTTP request over IPv4: what the integration test's traffic generator sends. */
const markedIpv4 = () => vxlan(4242, ethernet(0x0800, ipv4({ protocol: TCP, payload: tcp(43210, 8080, httpRequest) })));

describe('decode', () => {
  test('an IPv4 TCP packet: VNI, addresses, ports and payload', () => {
    const packet = decode(markedIpv4());
    expect(packet).toMatchObject({
      vni: 4242, family: 'ipv4', source: '10.0.1.23', destination: '10.0.2.34', protocol: 'tcp', sourcePort: 43210, destinationPort: 8080, truncated: false,
    });
    expect(packet.payload.equals(httpRequest)).toBe(true);
  });

  test('an IPv4 UDP packet inside two VLAN tags; Ethernet padding after the IP packet is not payload', () => {
    const datagram = vxlan(7, ethernet(0x0800, Buffer.concat([ipv4({ protocol: UDP, payload: udp(53000, 53, Buffer.from('q')) }), Buffer.alloc(17)]), [100, 200]));
    const packet = decode(datagram);
    expect(packet).toMatchObject({ vni: 7, family: 'ipv4', protocol: 'udp', sourcePort: 53000, destinationPort: 53, truncated: false });
    expect(packet.payload.toString()).toBe('q');
  });

  test('an IPv6 TCP packet behind hop-by-hop and destination options headers', () => {
    const payload = Buffer.concat([optionsHeader(60), optionsHeader(TCP), tcp(443, 50000, httpRequest)]);
    const packet = decode(vxlan(16777215, ethernet(0x86dd, ipv6(0, payload))));
    expect(packet).toMatchObject({
      vni: 16777215, family: 'ipv6', source: '2001:db8::1', destination: '2001:db8::2', protocol: 'tcp', sourcePort: 443, destinationPort: 50000, truncated: false,
    });
    expect(packet.payload.equals(httpRequest)).toBe(true);
  });

  test('an IPv4 options header (IHL 6) and a TCP header with options (data offset 8)', () => {
    const packet = decode(vxlan(1, ethernet(0x0800, ipv4({ protocol: TCP, ihl: 6, payload: tcp(1, 2, httpRequest, 8) }))));
    expect(packet).toMatchObject({ protocol: 'tcp', sourcePort: 1, destinationPort: 2, truncated: false });
    expect(packet.payload.equals(httpRequest)).toBe(true);
  });

  test('a later IPv4 fragment has no transport header to read', () => {
    const packet = decode(vxlan(1, ethernet(0x0800, ipv4({ protocol: UDP, fragmentOffset: 185, payload: httpRequest }))));
    expect(packet).toMatchObject({ family: 'ipv4', protocol: 'udp', truncated: false });
    expect(packet.sourcePort).toBeUndefined();
    expect(packet.payload.equals(httpRequest)).toBe(true);
  });

  test('other EtherTypes and IP protocols are packets, not errors', () => {
    expect(decode(vxlan(1, ethernet(0x0806, Buffer.alloc(28))))).toMatchObject({ family: 'other', etherType: 0x0806, truncated: false });
    expect(decode(vxlan(1, ethernet(0x0800, ipv4({ protocol: 1, payload: Buffer.from([8, 0, 0, 0]) }))))).toMatchObject({ protocol: 'icmp' });
    expect(decode(vxlan(1, ethernet(0x0800, ipv4({ protocol: 132, payload: Buffer.alloc(12) }))))).toMatchObject({ protocol: '132' });
  });

  // A session's packetLength counts the bytes after the VXLAN header (CreateTrafficMirrorSession
  // API reference), so a mirrored frame may end anywhere, even inside a header.
  test.each([
    ['IPv4/TCP', markedIpv4()],
    ['IPv6/UDP behind options', vxlan(9, ethernet(0x86dd, ipv6(0, Buffer.concat([optionsHeader(UDP), udp(1, 2, httpRequest)]))))],
  ])('%s cut at every packetLength: never malformed, truncated exactly when cut, a hit only when the marker arrived whole', (_, whole) => {
    const frameLength = whole.length - 8;
    const markerEnd = whole.indexOf(MARKER) + MARKER.length;
    for (let packetLength = 0; packetLength <= frameLength; packetLength++) {
      const packet = decode(whole.subarray(0, 8 + packetLength));
      expect(packet.vni).toBe(whole.readUIntBE(4, 3));
      expect(packet.truncated).toBe(packetLength < frameLength);
      expect(packet.payload.includes(MARKER)).toBe(8 + packetLength >= markerEnd);
    }
  });

  test.each([
    ['a datagram shorter than the VXLAN header', Buffer.from([8, 0, 0]), 'short-vxlan-header'],
    ['the VXLAN I flag clear (RFC 7348: the VNI is then not valid)', vxlan(1, ethernet(0x0800, Buffer.alloc(20)), 0x00), 'vxlan-i-flag-clear'],
    ['IPv4 EtherType with version 6 inside', vxlan(1, ethernet(0x0800, ipv4({ protocol: TCP, payload: Buffer.alloc(20), version: 6 }))), 'ipv4-version'],
    ['an IPv4 header length below 20 bytes', vxlan(1, ethernet(0x0800, ipv4({ protocol: TCP, payload: Buffer.alloc(20), ihl: 4 }))), 'ipv4-header-length'],
    ['IPv6 EtherType with version 4 inside', vxlan(1, ethernet(0x86dd, Buffer.alloc(40, 0x45))), 'ipv6-version'],
    ['a TCP data offset below 20 bytes', vxlan(1, ethernet(0x0800, ipv4({ protocol: TCP, payload: tcp(1, 2, Buffer.alloc(4), 4) }))), 'tcp-data-offset'],
  ])('malformed: %s', (_, datagram, reason) => {
    expect(() => decode(datagram)).toThrow(expect.objectContaining({ reason }));
  });

  test('garbage either decodes or is refused as Malformed, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, setFlag) => {
      const datagram = Buffer.from(bytes);
      if (setFlag && datagram.length > 0) datagram[0] |= VXLAN_I_FLAG;
      try {
        const packet = decode(datagram);
        expect(packet.payload.length).toBeLessThanOrEqual(datagram.length);
      } catch (error) {
        expect(error).toBeInstanceOf(Malformed);
      }
    }), { numRuns: 2000 });
  });

  test.each([
    [[0x2001, 0x0db8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0x2001, 0x0db8, 0, 1, 0, 0, 0, 1], '2001:db8:0:1::1'],
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'],
    [[1, 0, 0, 2, 0, 0, 3, 4], '1::2:0:0:3:4'],
    [[1, 0, 2, 3, 4, 5, 6, 7], '1:0:2:3:4:5:6:7'],
    [[1, 2, 3, 4, 5, 6, 7, 8], '1:2:3:4:5:6:7:8'],
  ])('RFC 5952 text of %j is %s (the longest run of two or more zero groups, the first on a tie)', (groups, text) => {
    expect(ipv6Text(Buffer.concat(groups.map(u16)))).toBe(text);
  });
});

describe('the receiver on the loopback interface', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let lines: any[];
  let client: dgram.Socket;

  beforeEach(async () => {
    lines = [];
    receiver = await startReceiver({ marker: MARKER, udpPort: 0, httpPort: 0, host: '127.0.0.1', log: line => lines.push(JSON.parse(line)) });
    client = dgram.createSocket('udp4');
  });

  afterEach(async () => {
    client.close();
    await receiver.close();
  });

  /** Sends each datagram to the receiver and waits until it has taken all of them in. */
  async function send(...datagrams: Buffer[]) {
    const before = receiver.stats().datagrams;
    for (const d of datagrams) {
      await new Promise<void>((resolve, reject) => client.send(d, receiver.udpPort, '127.0.0.1', e => (e ? reject(e) : resolve())));
    }
    while (receiver.stats().datagrams < before + datagrams.length) await new Promise(resolve => setImmediate(resolve));
  }

  function healthCheck(): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: receiver.httpPort, path: '/health' }, response => {
        let body = '';
        response.on('data', chunk => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(body) }));
      }).on('error', reject);
    });
  }

  test('logs that it listens, then a JSON line for each marker hit with the decoded headers', async () => {
    expect(lines[0]).toMatchObject({ event: 'listening', udpPort: receiver.udpPort, httpPort: receiver.httpPort, marker: MARKER });
    await send(markedIpv4());
    expect(lines.filter(l => l.event === 'marker')).toEqual([expect.objectContaining({
      event: 'marker',
      vni: 4242,
      family: 'ipv4',
      source: '10.0.1.23',
      destination: '10.0.2.34',
      protocol: 'tcp',
      sourcePort: 43210,
      destinationPort: 8080,
      truncated: false,
      capturedPayloadBytes: httpRequest.length,
      markerHits: 1,
      from: '127.0.0.1',
      time: expect.any(String),
    })]);
  });

  test('counts packets by family, protocol and VNI, truncated packets and marker hits', async () => {
    const ipv6Marked = vxlan(5, ethernet(0x86dd, ipv6(TCP, tcp(443, 50000, httpRequest))));
    const plainUdp = vxlan(5, ethernet(0x0800, ipv4({ protocol: UDP, payload: udp(1, 2, Buffer.from('no marker here')) })));
    // Truncated after 60 bytes of frame: the marker (past byte 60) did not arrive.
    const cut = markedIpv4().subarray(0, 8 + 60);
    await send(markedIpv4(), ipv6Marked, plainUdp, cut);
    expect(receiver.stats()).toMatchObject({
      datagrams: 4, packets: 4, ipv4: 3, ipv6: 1, tcp: 3, udp: 1, truncated: 1, markerHits: 2, malformed: 0, packetsByVni: { 4242: 2, 5: 2 },
    });
  });

  test('garbage is counted and logged by reason, and the next real packet still decodes', async () => {
    await send(Buffer.from('hello'), Buffer.alloc(64), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x45]));
    await send(markedIpv4());
    expect(receiver.stats()).toMatchObject({
      datagrams: 4, malformed: 2, packets: 2, markerHits: 1, malformedByReason: { 'short-vxlan-header': 1, 'vxlan-i-flag-clear': 1 },
    });
    expect(lines.filter(l => l.event === 'malformed').map(l => l.reason)).toEqual(['short-vxlan-header', 'vxlan-i-flag-clear']);
  });

  test('logs at most markerLogLimit hits one by one; the counter keeps counting', async () => {
    await receiver.close();
    lines = [];
    receiver = await startReceiver({ marker: MARKER, udpPort: 0, httpPort: 0, markerLogLimit: 2, log: line => lines.push(JSON.parse(line)) });
    await send(markedIpv4(), markedIpv4(), markedIpv4());
    expect(lines.filter(l => l.event === 'marker').map(l => l.markerHits)).toEqual([1, 2]);
    expect(receiver.stats().markerHits).toBe(3);
  });

  test('the log limit holds per VNI: a busy session does not hide the capture sidecar\'s hits', async () => {
    await receiver.close();
    lines = [];
    receiver = await startReceiver({ marker: MARKER, udpPort: 0, httpPort: 0, markerLogLimit: 1, log: line => lines.push(JSON.parse(line)) });
    const sidecar = vxlan(4343, ethernet(0x0800, ipv4({ protocol: TCP, payload: tcp(43211, 8080, httpRequest) })));
    await send(markedIpv4(), markedIpv4(), sidecar);
    expect(lines.filter(l => l.event === 'marker').map(l => l.vni)).toEqual([4242, 4343]);
  });

  test('answers the load balancer\'s health check over HTTP with its counters', async () => {
    await send(markedIpv4());
    const { status, body } = await healthCheck();
    expect(status).toBe(200);
    expect(body).toMatchObject({ datagrams: 1, packets: 1, markerHits: 1 });
  });

  test('refuses to start without a marker', async () => {
    await expect(startReceiver({ marker: '', udpPort: 0, httpPort: 0 })).rejects.toThrow(/marker is required/);
  });
});
