// The hand-written types (apigw-ws.d.ts) checked with the TypeScript compiler: test/types/usage.ts
// must compile, and every misuse it marks with @ts-expect-error must be refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

test('apigw-ws.d.ts passes tsc --noEmit through the package exports', () => {
  const tsc = path.join(web, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(web, 'test', 'types', 'tsconfig.json')], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`);
});
