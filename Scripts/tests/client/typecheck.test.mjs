// The package's TypeScript declarations, checked the way a consumer sees them: @roundtable/client is
// linked into a scratch node_modules and `tsc --noEmit --strict` (moduleResolution nodenext, so the
// `exports` map's `types` are used) checks web/README.md's example and consumer/consumer.ts, whose
// `@ts-expect-error` lines must stay errors.
// Needs tsc (Debian's node-typescript, installed by Scripts/deps.sh --test).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const WEB = join(HERE, '..', '..', '..', 'web');
const tsc = spawnSync('tsc', ['--version'], { encoding: 'utf8' });
const skip = tsc.status === 0 ? false : 'tsc is not installed (apt-get install node-typescript; Scripts/deps.sh --test installs it)';

/** A scratch project with the package linked in, and the given files; runs tsc and returns its result. */
function check(files) {
  const dir = mkdtempSync(join(tmpdir(), 'rt-types-'));
  try {
    mkdirSync(join(dir, 'node_modules', '@roundtable'), { recursive: true });
    symlinkSync(WEB, join(dir, 'node_modules', '@roundtable', 'client'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [], skipLibCheck: false },
      files: Object.keys(files),
    }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return spawnSync('tsc', ['-p', dir, '--noEmit', '--strict'], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the README example and the typed consumer pass tsc --noEmit --strict', { skip, timeout: 120000 }, () => {
  const readme = readFileSync(join(WEB, 'README.md'), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(example, 'web/README.md has no ```ts example');
  const r = check({ 'readme.ts': `${example[1]}\nexport {};\n`, 'consumer.ts': readFileSync(join(HERE, 'consumer', 'consumer.ts'), 'utf8') });
  assert.equal(r.status, 0, `tsc ${tsc.stdout.trim()} found errors:\n${r.stdout}${r.stderr}`);
});
