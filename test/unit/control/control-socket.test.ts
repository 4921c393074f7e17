/**
 * The control socket itself: permissions, a stale socket replaced, a live one refused, a file
 * that is not a socket left alone, malformed requests answered with errors while the server goes
 * on serving, and the client's path resolution.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  controlRequest,
  DEFAULT_CONTROL_PATH,
  resolveControlPath,
} from '../../../src/control/control-socket/client.js';
import { MAX_REQUEST_BYTES } from '../../../src/control/control-socket/protocol.js';
import { type ControlServer, startControlServer } from '../../../src/control/control-socket/server.js';
import { ControlRig } from './control-rig.js';
import { rawExchange, recordingLog, TempDirs } from './helpers.js';

const tmp = new TempDirs();
const servers: ControlServer[] = [];

async function serve(rig: ControlRig, path: string): Promise<ControlServer> {
  const s = await startControlServer(rig, path, recordingLog());
  servers.push(s);
  return s;
}

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  tmp.cleanup();
});

describe('control socket', () => {
  it('is root-only: a missing directory is made 0700, the socket is 0600, and close removes it', async () => {
    const dir = tmp.make();
    const path = join(dir, 'run', 'ferry', 'ferry.sock');
    const s = await serve(new ControlRig(dir), path);
    expect(statSync(join(dir, 'run', 'ferry')).mode & 0o777).toBe(0o700);
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    await s.close();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket file nobody answers on', async () => {
    const dir = tmp.make();
    const path = join(dir, 'ferry.sock');
    // A socket file whose process is gone: bound, never listened on, process exited.
    execFileSync('python3', [
      '-c',
      `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`,
    ]);
    expect(statSync(path).isSocket()).toBe(true);
    const rig = new ControlRig(dir);
    await serve(rig, path);
    const hello = await controlRequest(path, 'hello', {});
    expect(hello).toMatchObject({ pid: process.pid, configPath: rig.configPath });
  });

  it('refuses to start where another ferry answers, which keeps serving', async () => {
    const dir = tmp.make();
    const path = join(dir, 'ferry.sock');
    const first = new ControlRig(dir);
    await serve(first, path);
    await expect(startControlServer(new ControlRig(tmp.make()), path, recordingLog())).rejects.toThrow(
      `another ferry is running with its control socket at ${path} (pid ${process.pid}, config ${first.configPath}); stop it first or use another control path`,
    );
    expect((await controlRequest(path, 'hello', {})).configPath).toBe(first.configPath);
  });

  it('leaves a path that is not a socket alone', async () => {
    const dir = tmp.make();
    const path = join(dir, 'ferry.sock');
    writeFileSync(path, 'not a socket');
    await expect(startControlServer(new ControlRig(dir), path, recordingLog())).rejects.toThrow(
      `${path} exists and is not a socket; remove it or pick another --control path`,
    );
    expect(statSync(path).isFile()).toBe(true);
  });

  it('answers malformed requests with errors and keeps serving', async () => {
    const dir = tmp.make();
    const path = join(dir, 'ferry.sock');
    const log = recordingLog();
    const rig = new ControlRig(dir);
    servers.push(await startControlServer(rig, path, log));
    const bad = [
      'this is not json',
      '[1,2]',
      '{"cmd":"status"}',
      '{"id":2}',
      '{"id":3,"cmd":"nope"}',
      '{"id":4,"cmd":"status","args":[]}',
      '{"id":5,"cmd":"status","args":{"x":1}}',
      '{"id":"six","cmd":"trace","args":{"count":-1}}',
      '{"id":7,"cmd":"trace","args":{"count":1,"timeout":"soon"}}',
      '{"id":8,"cmd":"trace","args":{"count":1,"filter":"port 99999"}}',
      '{"id":9,"cmd":"hello"}',
    ];
    const { answers } = await rawExchange(path, `${bad.join('\n')}\n`, bad.length);
    expect(answers).toEqual([
      { id: null, ok: false, error: 'malformed request: not JSON (expected {"id":…,"cmd":…,"args":{…}})' },
      { id: null, ok: false, error: 'malformed request: not a JSON object' },
      { id: null, ok: false, error: 'malformed request: "id" must be a number or a string' },
      { id: 2, ok: false, error: 'malformed request: "cmd" must be a string' },
      { id: 3, ok: false, error: 'unknown command "nope" (known: hello, status, reload, conntrack, trace)' },
      { id: 4, ok: false, error: 'malformed request: "args" must be an object' },
      { id: 5, ok: false, error: 'status takes no arguments (got x)' },
      { id: 'six', ok: false, error: 'trace: "count" must be a whole number of packets, at least 1' },
      { id: 7, ok: false, error: 'trace: "timeout" must be seconds, more than 0 and at most 86400' },
      { id: 8, ok: false, error: '"99999" is not a port (0-65535)' },
      { id: 9, ok: true, result: expect.objectContaining({ pid: process.pid }) },
    ]);
    expect(rig.engine.pipe.tracer.remaining).toBe(0);
    // The request's faults are not the daemon's: nothing logged as a failure.
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect((await controlRequest(path, 'status', {})).ports).toHaveLength(2);
  });

  it('closes a connection whose line never ends, and serves the next one', async () => {
    const dir = tmp.make();
    const path = join(dir, 'ferry.sock');
    await serve(new ControlRig(dir), path);
    const { answers, closed } = await rawExchange(path, Buffer.alloc(MAX_REQUEST_BYTES + 1024, 0x61), 1);
    expect(answers).toEqual([
      { id: null, ok: false, error: `request line over ${MAX_REQUEST_BYTES} bytes; closing the connection` },
    ]);
    expect(closed || answers.length === 1).toBe(true);
    expect((await controlRequest(path, 'hello', {})).pid).toBe(process.pid);
  });

  it('answers a client that stops sending after its requests, then ends the connection', async () => {
    const dir = tmp.make();
    const path = join(dir, 'ferry.sock');
    await serve(new ControlRig(dir), path);
    // The last request has no newline: the end of the stream ends it.
    const { answers, closed } = await rawExchange(
      path,
      '{"id":1,"cmd":"status"}\n{"id":2,"cmd":"hello"}',
      99,
      {
        halfClose: true,
      },
    );
    expect(answers.map((a) => (a as { id: number; ok: boolean }).ok)).toEqual([true, true]);
    expect(closed).toBe(true);
  });

  it('answers overlapping requests on one connection by id', async () => {
    const dir = tmp.make();
    const path = join(dir, 'ferry.sock');
    await serve(new ControlRig(dir), path);
    const { answers } = await rawExchange(
      path,
      '{"id":1,"cmd":"conntrack"}\n{"id":2,"cmd":"hello"}\n{"id":3,"cmd":"status"}\n',
      3,
    );
    const byId = new Map((answers as { id: number; ok: boolean }[]).map((a) => [a.id, a.ok]));
    expect([...byId.entries()].sort()).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
  });
});

describe('resolveControlPath', () => {
  it('takes --control, else $FERRY_CONTROL, else /run/ferry/ferry.sock', () => {
    expect(resolveControlPath('/tmp/a.sock', { FERRY_CONTROL: '/tmp/b.sock' })).toBe('/tmp/a.sock');
    expect(resolveControlPath(undefined, { FERRY_CONTROL: '/tmp/b.sock' })).toBe('/tmp/b.sock');
    expect(resolveControlPath(undefined, {})).toBe('/run/ferry/ferry.sock');
    expect(DEFAULT_CONTROL_PATH).toBe('/run/ferry/ferry.sock');
  });

  it('reports a socket file nobody listens on as no ferry running', async () => {
    const dir = tmp.make();
    mkdirSync(join(dir, 'x'));
    const path = join(dir, 'x', 'stale.sock');
    execFileSync('python3', [
      '-c',
      `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`,
    ]);
    await expect(controlRequest(path, 'hello', {})).rejects.toThrow(
      `no ferry is running (nothing answers on the control socket at ${path}; start one with \`ferry run -c FILE\`, or pass --control)`,
    );
  });
});
