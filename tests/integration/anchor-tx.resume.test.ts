import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// Regression for the fault suite's finding: a worker killed after broadcasting but before
// recording `sent` must, on restart, recognise its own mined transaction instead of giving the
// nonce up as taken (tests/faults/repro-anchor-pending.ts drives it on a private anvil).
describe('anchor transaction manager: resume after a kill between broadcast and `sent`', () => {
  it('confirms its own mined transaction instead of failing with NONCE_TAKEN', async () => {
    const { stdout } = await run(process.execPath, ['tests/faults/repro-anchor-pending.ts'], { timeout: 120_000 });
    expect(stdout).toMatch(/resume\(\) ok/);
    expect(stdout).not.toMatch(/NONCE_TAKEN/);
    expect(stdout).toMatch(/"state":"confirmed"/);
  });
});
