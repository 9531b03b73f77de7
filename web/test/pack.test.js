// The npm package as users get it: `npm pack`, then `npm install` of the tarball into a throwaway
// application, which imports it by name (runtime and types). Catches a file missing from "files",
// a broken "exports" map, and a version that differs from the C++ project's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const root = path.dirname(web);

function npm(args, cwd) {
  // --offline: a local tarball with no dependencies needs nothing from a registry.
  return execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
  });
}

test('the packed tarball installs, imports by name and type-checks', (t) => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'apigw-ws-pack-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp], web));
  assert.deepEqual(packed.files.map((f) => f.path).sort(), ['README.md', 'apigw-ws.d.ts', 'apigw-ws.js', 'package.json']);
  const project = readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8').match(/project\(apigw VERSION ([0-9.]+)/)[1];
  assert.equal(packed.version, project);

  const app = path.join(tmp, 'app');
  cpSync(path.join(web, 'test', 'types'), app, { recursive: true });
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', '--no-package-lock', path.join(tmp, packed.filename)], app);

  writeFileSync(
    path.join(app, 'main.js'),
    `import * as m from 'apigw-ws';
     import { createRequire } from 'node:module';
     const pkg = createRequire(import.meta.url)('apigw-ws/package.json');
     const c = new m.ApigwClient({ url: 'ws://127.0.0.1:1/dev' });
     console.log(JSON.stringify({ exports: Object.keys(m).sort(), version: pkg.version, state: c.state,
                                  credentials: c.options.credentials }));`,
  );
  const out = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8' }));
  assert.deepEqual(out, {
    exports: ['ApigwClient', 'RECOVERED', 'STATES', 'backoffDelay', 'invalidate', 'renderSystemBanner', 'showSystemBanner',
      'showToasts', 'trackProgress'],
    version: project,
    state: 'idle',
    credentials: 'same-origin',
  });

  const tsc = path.join(web, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(app, 'tsconfig.json')], { encoding: 'utf8' });
});
