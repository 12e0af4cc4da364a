/**
 * Test support: the fake EC2, ECS and SSM endpoints served over HTTP on 127.0.0.1, so the shipped
 * bundle runs in a child process with its own SDK clients, pointed here by the SDK's
 * service-specific endpoint variables (`AWS_ENDPOINT_URL_EC2`, `..._ECS`, `..._SSM`, `..._LAMBDA`,
 * `..._SQS`, `..._CLOUDFORMATION`; AWS SDKs and Tools Reference Guide, "Service-specific endpoints"). Nothing leaves
 * the machine.
 */
import { execFile } from 'child_process';
import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { FakeCloudFormationEndpoint } from './fake-cloudformation-endpoint';
import { FakeEc2Endpoint } from './fake-ec2-endpoint';
import { FakeEcsEndpoint } from './fake-ecs-endpoint';
import { json, jsonError, jsonRequest } from './json-protocol';
import { BUNDLE } from '../sim/bundle';

/** SSM Parameter Store's GetParameter over the JSON protocol: names to values. */
export class FakeSsmEndpoint {
  public readonly parameters = new Map<string, string>();
  public readonly calls: string[] = [];
  public readonly requestHandler = {
    handle: async (request: HttpRequest) => {
      const { action, input } = jsonRequest(request);
      this.calls.push(`${action} ${input.Name}`);
      if (action !== 'GetParameter') return { response: jsonError('UnknownOperationException') };
      const value = this.parameters.get(input.Name);
      // "ParameterNotFound" (Systems Manager API reference, GetParameter errors).
      return { response: value === undefined ? jsonError('ParameterNotFound') : json(200, { Parameter: { Name: input.Name, Type: 'String', Value: value, Version: 1 } }) };
    },
  };
}

/**
 * SQS's ChangeMessageVisibilityBatch over the JSON 1.0 protocol: a receipt handle of a message
 * received and not deleted succeeds; any other fails with `ReceiptHandleIsInvalid`, a sender
 * fault (Amazon SQS API reference, ChangeMessageVisibilityBatch and BatchResultErrorEntry).
 */
export class FakeSqsEndpoint {
  /** Receipt handles of messages received and in flight. */
  public readonly inFlight = new Set<string>();
  public readonly calls: string[] = [];
  public readonly requestHandler = {
    handle: async (request: HttpRequest) => {
      const { action, input } = jsonRequest(request);
      this.calls.push(action);
      if (action !== 'ChangeMessageVisibilityBatch') return { response: jsonError('UnsupportedOperation') };
      const entries: Array<{ Id: string; ReceiptHandle: string }> = input.Entries ?? [];
      return {
        response: json(200, {
          Successful: entries.filter(e => this.inFlight.has(e.ReceiptHandle)).map(e => ({ Id: e.Id })),
          Failed: entries.filter(e => !this.inFlight.has(e.ReceiptHandle)).map(e => ({
            Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: `The input receipt handle "${e.ReceiptHandle}" is not a valid receipt handle.`,
          })),
        }),
      };
    },
  };
}

/** The id of the stack the local endpoints play (the reconciler's MIRROR_STACK_ID). */
export const LOCAL_STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/MirrorStack/0f0e0d0c-1111-2222-3333-444455556666';

type Handler = { handle(request: HttpRequest): Promise<{ response: HttpResponse }> };

/** Serves each fake on a port of its own on 127.0.0.1. */
export class LocalEndpoints {
  public readonly ec2: FakeEc2Endpoint;
  public readonly ecs: FakeEcsEndpoint;
  public readonly ssm = new FakeSsmEndpoint();
  public readonly sqs = new FakeSqsEndpoint();
  /** The deployment's stack, as CloudFormation answers about it. */
  public readonly cloudformation = new FakeCloudFormationEndpoint(LOCAL_STACK_ID);
  /** Requests to services without a fake (Lambda): answered 500 and listed. */
  public readonly unexpected: string[] = [];
  private readonly servers: Server[] = [];
  private readonly urls: Record<string, string> = {};

  constructor(clusterArn: string) {
    this.ec2 = new FakeEc2Endpoint();
    this.ecs = new FakeEcsEndpoint(clusterArn);
  }

  public async start(): Promise<void> {
    const unexpected: Handler = {
      handle: async (request) => {
        this.unexpected.push(`${request.headers['x-amz-target'] ?? ''} ${request.path}`);
        return { response: json(500, { __type: 'InternalFailure' }) };
      },
    };
    for (const [name, handler] of [['EC2', this.ec2.requestHandler], ['ECS', this.ecs.requestHandler], ['SSM', this.ssm.requestHandler],
      ['SQS', this.sqs.requestHandler], ['CLOUDFORMATION', this.cloudformation.requestHandler], ['LAMBDA', unexpected]] as Array<[string, Handler]>) {
      const server = createServer((req, res) => void serve(handler, req).then(({ statusCode, headers, body }) => {
        res.writeHead(statusCode, headers);
        res.end(body);
      }));
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
      this.servers.push(server);
      this.urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
  }

  /** The URL of a queue on the local SQS endpoint. */
  public queueUrl(name = 'TaskStateQueue'): string {
    return `${this.urls.SQS}/123456789012/${name}`;
  }

  public async stop(): Promise<void> {
    await Promise.all(this.servers.map(s => new Promise(resolve => s.close(resolve))));
  }

  /** The bundle's environment: these endpoints, test credentials, and `extra` (the functions' own variables). */
  public env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_MAX_ATTEMPTS: '1',
      POWERTOOLS_METRICS_NAMESPACE: 'FargateTrafficMirror',
      ...Object.fromEntries(Object.entries(this.urls).map(([name, url]) => [`AWS_ENDPOINT_URL_${name}`, url])),
      ...extra,
    };
  }

  /** What the bundle's handler answers `event` with, in a child process (its error message if it throws), and its log lines. */
  public invoke(event: unknown, extra: Record<string, string> = {}): Promise<{ answer: string; log: string }> {
    const script = `require(${JSON.stringify(BUNDLE)}).handler(${JSON.stringify(event)})`
      + '.then(r=>process.stdout.write("\\nANSWER "+JSON.stringify(r)),e=>process.stdout.write("\\nANSWER error: "+e.message))';
    return new Promise((resolve, reject) => execFile(process.execPath, ['-e', script], { env: this.env(extra), timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(err);
      const at = stdout.lastIndexOf('\nANSWER ');
      resolve({ answer: stdout.slice(at + 8), log: `${stdout.slice(0, at)}${stderr}` });
    }));
  }
}

async function serve(handler: Handler, req: IncomingMessage): Promise<{ statusCode: number; headers: Record<string, string>; body: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const request = new HttpRequest({ method: req.method, hostname: '127.0.0.1', path: req.url, headers, body: Buffer.concat(chunks).toString() });
  const { response } = await handler.handle(request);
  const parts: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer>) parts.push(Buffer.from(chunk));
  return { statusCode: response.statusCode, headers: response.headers as Record<string, string>, body: Buffer.concat(parts) };
}
