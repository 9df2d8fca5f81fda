import { randomUUID } from 'node:crypto';
import { connectTcp, type SocketReader } from '../socket-reader.ts';
import type { ProbeResult } from '../types.ts';
import { sleep } from '../wait.ts';
import {
  Args,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  frame,
  longstr,
  method,
  shortstr,
  table,
  u8,
  u16,
  u32,
  u64,
} from './codec.ts';

interface Frame {
  readonly type: number;
  readonly channel: number;
  readonly payload: Buffer;
}

async function readFrame(reader: SocketReader): Promise<Frame> {
  const head = await reader.readExact(7);
  const payload = await reader.readExact(head.readUInt32BE(3));
  if ((await reader.readExact(1))[0] !== 0xce) throw new Error('AMQP frame without its end marker');
  return { type: head.readUInt8(0), channel: head.readUInt16BE(1), payload };
}

/** Next method frame, which must be class.method; a Close from the server becomes its reason. */
async function expect(reader: SocketReader, classId: number, methodId: number): Promise<Args> {
  for (;;) {
    const next = await readFrame(reader);
    if (next.type === FRAME_HEARTBEAT) continue;
    if (next.type !== FRAME_METHOD) throw new Error(`AMQP frame type ${next.type} where a method was due`);
    const args = new Args(next.payload);
    const got = [args.u16(), args.u16()] as const;
    if (got[0] === classId && got[1] === methodId) return args;
    // connection.blocked: a resource alarm (memory or disk) stops the broker reading from
    // publishers, which from here looks like silence; say so instead of timing out.
    if (got[0] === 10 && got[1] === 60) throw new Error(`RabbitMQ blocks publishers: ${args.shortstr()}`);
    const closed =
      got[0] === 10 && got[1] === 50 ? 'connection' : got[0] === 20 && got[1] === 40 ? 'channel' : '';
    if (closed) throw new Error(`RabbitMQ closed the ${closed}: ${args.u16()} ${args.shortstr()}`);
    throw new Error(`AMQP method ${got.join('.')} where ${classId}.${methodId} was due`);
  }
}

/**
 * A real round trip in AMQP 0-9-1: handshake (the server properties carry the version), an
 * exclusive auto-delete queue, publish one message to it, basic.get it back, close.
 */
export async function probeRabbitMq(url: string): Promise<ProbeResult> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'amqp:')
    throw new Error(`the provisioning probe speaks plain amqp://, not ${parsed.protocol}`);
  const user = decodeURIComponent(parsed.username || 'guest');
  const pass = decodeURIComponent(parsed.password || 'guest');
  const vhost = parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : '/';
  const reader = await connectTcp(parsed.hostname, Number(parsed.port || 5672));
  const send = (payload: Buffer, channel = 0, type = FRAME_METHOD) =>
    reader.write(frame(type, channel, payload));
  let stage = 'the protocol header';
  try {
    reader.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    const start = await expect(reader, 10, 10);
    stage = 'login';
    start.u8();
    start.u8();
    const server = start.table();
    const client = table({
      product: 'switchyard-provision',
      // Ask for a Close with the reason on bad credentials instead of a bare disconnect.
      capabilities: { authentication_failure_close: true, 'connection.blocked': true },
    });
    send(method(10, 11, client, shortstr('PLAIN'), longstr(`\0${user}\0${pass}`), shortstr('en_US')));
    const tune = await expect(reader, 10, 30);
    stage = 'connection.open';
    const channelMax = tune.u16();
    const frameMax = tune.u32();
    send(method(10, 31, u16(channelMax), u32(frameMax), u16(0)));
    send(method(10, 40, shortstr(vhost), shortstr(''), u8(0)));
    await expect(reader, 10, 41);

    stage = 'channel and queue declare';
    send(method(20, 10, shortstr('')), 1);
    await expect(reader, 20, 11);
    send(method(50, 10, u16(0), shortstr(''), u8(0b01100), table({})), 1); // exclusive, auto-delete
    const queue = (await expect(reader, 50, 11)).shortstr();

    stage = 'publish and basic.get';
    const body = Buffer.from(`switchyard health ${randomUUID()}`);
    send(method(60, 40, u16(0), shortstr(''), shortstr(queue), u8(0)), 1);
    send(Buffer.concat([u16(60), u16(0), u64(body.length), u16(0)]), 1, FRAME_HEADER);
    send(body, 1, FRAME_BODY);
    const got = await basicGet(reader, queue, send);
    if (!got.equals(body))
      throw new Error(`basic.get returned "${got.toString()}" instead of the published message`);

    send(method(10, 50, u16(200), shortstr('health check done'), u16(0), u16(0)));
    await expect(reader, 10, 51).catch(() => {});
    const product = typeof server.product === 'string' ? server.product : 'AMQP server';
    return { version: `${product} ${String(server.version ?? '?')}` };
  } catch (error) {
    throw new Error(`AMQP round trip failed at ${stage}: ${(error as Error).message}`);
  } finally {
    reader.close();
  }
}

async function basicGet(
  reader: SocketReader,
  queue: string,
  send: (payload: Buffer, channel?: number, type?: number) => void,
): Promise<Buffer> {
  for (let attempt = 0; attempt < 50; attempt++) {
    send(method(60, 70, u16(0), shortstr(queue), u8(1)), 1); // no-ack
    const next = await readFrame(reader);
    const args = new Args(next.payload);
    const [classId, methodId] = [args.u16(), args.u16()];
    if (classId === 60 && methodId === 72) {
      await sleep(20); // get-empty: the publish is still on its way to the queue
      continue;
    }
    if (classId !== 60 || methodId !== 71)
      throw new Error(`AMQP method ${classId}.${methodId} in reply to basic.get`);
    const header = await readFrame(reader);
    const size = Number(header.payload.readBigUInt64BE(4));
    const chunks: Buffer[] = [];
    let received = 0;
    while (received < size) {
      const part = await readFrame(reader);
      chunks.push(part.payload);
      received += part.payload.length;
    }
    return Buffer.concat(chunks);
  }
  throw new Error('the published message never reached its queue');
}
