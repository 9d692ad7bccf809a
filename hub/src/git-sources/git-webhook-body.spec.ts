import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installWebhookBodyReader, RAW_WEBHOOK_BODY, webhookBodyOf } from './git-webhook-body';

/** A real Fastify server with the reader installed: one marked route that echoes what it was given, one ordinary JSON route. */
function server(maxBytes: number, maxConcurrent?: number): FastifyInstance {
  const app = Fastify();
  installWebhookBodyReader(app, maxBytes, maxConcurrent);
  app.post('/hook', { config: RAW_WEBHOOK_BODY }, async (request) => {
    const body = webhookBodyOf(request);
    return body.kind === 'bytes' ? { kind: body.kind, hex: Buffer.from(body.bytes).toString('hex'), contentType: body.contentType } : { kind: body.kind };
  });
  app.post('/other', async (request) => ({ parsed: request.body }));
  return app;
}

/** A body that arrives in two parts, the second only when `release` is called; `reading` settles once the server has pulled the first. */
function heldBody(first: string) {
  let release!: () => void;
  let started!: () => void;
  const reading = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let step = 0;
  const stream = new Readable({
    read() {
      step += 1;
      if (step === 1) this.push(first);
      else if (step === 2) {
        started();
        void released.then(() => this.push(null));
      }
    },
  });
  return { stream, reading, release };
}

describe('installWebhookBodyReader', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each([
    ['JSON with odd spacing and escapes', 'application/json', '{ "a" :"\\u00e9" ,"b":[1 ,2]}'],
    ['JSON that does not parse (the handler judges it after the signature)', 'application/json', '{"ref": '],
    ['a form', 'application/x-www-form-urlencoded', 'payload=%7B%22a%22%3A1%7D'],
    ['a media type Fastify has no parser for', 'application/x-yaml', 'ref: main\n'],
    ['no media type', undefined, '{}'],
  ])('hands the marked route the exact bytes of %s, and its media type', async (_name, contentType, text) => {
    app = server(1024);
    const response = await app.inject({ method: 'POST', url: '/hook', headers: contentType ? { 'content-type': contentType } : {}, payload: text });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ kind: 'bytes', hex: Buffer.from(text, 'utf8').toString('hex'), ...(contentType ? { contentType } : {}) });
  });

  it('hands over non-UTF-8 bytes unchanged', async () => {
    app = server(1024);
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x7d]);
    const response = await app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'application/json' }, payload: bytes });
    expect(response.json()).toMatchObject({ kind: 'bytes', hex: bytes.toString('hex') });
  });

  it('marks a body over the limit as too large, whether its length was announced or not', async () => {
    app = server(16);
    const announced = await app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(17) });
    expect(announced.json()).toEqual({ kind: 'tooLarge' });
    const streamed = await app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'application/json' }, payload: Readable.from([Buffer.from('x'.repeat(10)), Buffer.from('y'.repeat(10))]) });
    expect(streamed.json()).toEqual({ kind: 'tooLarge' });
    const atTheLimit = await app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(16) });
    expect(atTheLimit.json()).toMatchObject({ kind: 'bytes' });
  });

  it('leaves the other routes their parsers: invalid JSON there is still refused by Fastify, valid JSON still parsed', async () => {
    app = server(1024);
    expect((await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': 'application/json' }, payload: '{"ref": ' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' })).json()).toEqual({ parsed: { a: 1 } });
    expect((await app.inject({ method: 'POST', url: '/other', headers: { 'content-type': 'application/x-yaml' }, payload: 'a: 1' })).statusCode).toBe(415);
  });

  it('reads at most the given number of bodies at once: one more is marked busy unread, and the next one after them is read again', async () => {
    app = server(1024, 1);
    const held = heldBody('{"first":');
    const first = app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'application/json' }, payload: held.stream });
    await held.reading;
    const second = await app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(second.json()).toEqual({ kind: 'busy' });
    held.release();
    expect((await first).json()).toMatchObject({ kind: 'bytes', hex: Buffer.from('{"first":').toString('hex') });
    expect((await app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'application/json' }, payload: '{}' })).json()).toMatchObject({ kind: 'bytes' });
  });
});
