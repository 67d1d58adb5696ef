import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readMessage } from './inbox.server.js';

describe('readMessage', () => {
  it('answers the whole message within the limit', async () => {
    const stream = new PassThrough();
    const read = readMessage(stream, 10);
    stream.write('hello ');
    stream.end('mail');
    expect((await read)?.toString()).toBe('hello mail');
  });

  // @see issue 14, finding 7: a 60 MB mail was buffered and parsed whole before its 552.
  it('gives up the moment the limit is passed, before the message ends, and drains the rest', async () => {
    const stream = new PassThrough();
    let ended = false;
    stream.on('end', () => {
      ended = true;
    });
    const read = readMessage(stream, 1024);
    stream.write(Buffer.alloc(1000));
    stream.write(Buffer.alloc(100));
    expect(await read).toBeUndefined();
    expect(ended).toBe(false);
    // The client keeps sending; it is read (not left to back up) and dropped.
    for (let i = 0; i < 64; i++) expect(stream.write(Buffer.alloc(64 * 1024))).toBe(true);
    stream.end();
    await new Promise((resolve) => stream.once('end', resolve));
    expect(ended).toBe(true);
  });

  it('fails when the connection goes away mid-message', async () => {
    const stream = new PassThrough();
    const read = readMessage(stream, 1024);
    stream.write('partial');
    stream.destroy();
    await expect(read).rejects.toThrow(/closed/);
  });
});
