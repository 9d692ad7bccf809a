import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKustomize } from './run-kustomize';

/** Stand-ins for kubectl: shell scripts that behave like a slow, a chatty, a failing and a working kustomize. */
const SCRIPTS = {
  slow: '#!/bin/sh\nsleep 60 &\necho $! > "$HOME/child.pid"\nwait\n',
  chatty: '#!/bin/sh\nwhile :; do echo "a: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"; done\n',
  failing: '#!/bin/sh\necho "# Warning: commonLabels is deprecated" >&2\necho "error: accumulating resources: \'$2/x.yaml\': no such file" >&2\necho "  or directory" >&2\nexit 1\n',
  working: '#!/bin/sh\n[ "$1" = kustomize ] || exit 3\necho "dir: $2"\necho "home: $HOME"\necho "proxy: $HTTPS_PROXY"\necho "hub variable: ${FLOTILLA_KUSTOMIZE_SPEC_VARIABLE:-none}"\n',
};

describe('runKustomize', () => {
  let scratch: string;
  const bin = (name: keyof typeof SCRIPTS) => join(scratch, name, 'kubectl');

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'run-kustomize-spec-'));
    for (const [name, text] of Object.entries(SCRIPTS)) {
      const dir = join(scratch, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'kubectl'), text);
      chmodSync(join(dir, 'kubectl'), 0o755);
    }
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const run = (name: keyof typeof SCRIPTS, overrides: { timeoutMs?: number; maxBytes?: number } = {}) =>
    runKustomize('/the/overlay', { binary: bin(name), timeoutMs: overrides.timeoutMs ?? 20_000, maxBytes: overrides.maxBytes ?? 1024 * 1024, home: join(scratch, name) });

  it("runs `kubectl kustomize DIR` in its own folder, with no network and none of the hub's variables, and returns its output", async () => {
    process.env['FLOTILLA_KUSTOMIZE_SPEC_VARIABLE'] = 'leaked';
    try {
      expect(await run('working')).toEqual({ ok: true, stdout: `dir: /the/overlay\nhome: ${join(scratch, 'working')}\nproxy: http://127.0.0.1:9\nhub variable: none\n` });
    } finally {
      delete process.env['FLOTILLA_KUSTOMIZE_SPEC_VARIABLE'];
    }
  });

  it("returns kustomize's error lines without the warnings", async () => {
    expect(await run('failing')).toEqual({ ok: false, code: 'KUSTOMIZE_FAILED', message: "accumulating resources: '/the/overlay/x.yaml': no such file or directory" });
  });

  it('kills a render at its time limit, with the processes it started', async () => {
    const outcome = await run('slow', { timeoutMs: 1_000 });
    expect(outcome).toEqual({ ok: false, code: 'KUSTOMIZE_TIMEOUT', message: 'kustomize did not finish within 1 s (FLOTILLA_KUSTOMIZE_TIMEOUT_SECONDS)' });
    const child = readFileSync(join(scratch, 'slow', 'child.pid'), 'utf8').trim();
    // Gone, or a zombie waiting for a reaper that is not us: either way it no longer runs. The group's
    // SIGKILL is delivered with the kill, but a process finishes exiting on its own time: poll briefly.
    const stateOf = () => (existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone');
    let state = stateOf();
    for (let i = 0; i < 50 && !['gone', 'Z'].includes(state ?? ''); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = stateOf();
    }
    expect(['gone', 'Z']).toContain(state);
  });

  it('kills a render that prints more than its output cap', async () => {
    expect(await run('chatty', { maxBytes: 64 * 1024 })).toEqual({ ok: false, code: 'KUSTOMIZE_OUTPUT_TOO_LARGE', message: 'kustomize printed more than 64 KiB (FLOTILLA_KUSTOMIZE_MAX_OUTPUT_MB)' });
  });

  it('says which setting names a binary that does not exist', async () => {
    const outcome = await runKustomize('/the/overlay', { binary: join(scratch, 'nowhere', 'kubectl'), timeoutMs: 5_000, maxBytes: 1024, home: scratch });
    expect(outcome).toEqual({ ok: false, code: 'KUSTOMIZE_UNAVAILABLE', message: 'the kustomize binary "kubectl" was not found (FLOTILLA_KUSTOMIZE_BINARY)' });
  });
});
