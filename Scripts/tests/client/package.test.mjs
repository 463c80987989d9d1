// web/ as the npm package @roundtable/client: its version is the protocol's, its `exports` resolve from
// a consumer's node_modules, the files it publishes are complete, and messages.d.ts is what the schemas
// give today. Run: node --test Scripts/tests/client/
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const WEB = join(ROOT, 'web');
const pkg = JSON.parse(readFileSync(join(WEB, 'package.json'), 'utf8'));
const read = (p) => readFileSync(join(ROOT, p), 'utf8');

test('the package version is the protocol version (PROTOCOL.md, the server, the schema, the types)', () => {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(pkg.version);
  assert.ok(m, `version ${pkg.version} is not x.y.z`);
  const protocol = Number(/Protocol\s+version:\s*(\d+)/.exec(read('docs/PROTOCOL.md'))?.[1]);
  assert.ok(protocol >= 1, 'PROTOCOL.md does not state its version');
  assert.equal(Number(m[1]), protocol, `package ${pkg.version} for protocol ${protocol}: the major number is the protocol version`);
  assert.equal(Number(/static let current\s*=\s*(\d+)/.exec(read('Sources/RoundtableCore/Basics.swift'))?.[1]), protocol, 'ProtocolVersion.current');
  assert.equal(JSON.parse(read('docs/schema/notices.json')).$defs['room.state'].properties.protocol.const, protocol, 'room.state protocol in the schema');
  assert.match(read('web/messages.d.ts'), new RegExp(`export type ProtocolVersion = ${protocol};`));
});

test('package.json: an ES module package named @roundtable/client with types', () => {
  assert.equal(pkg.name, '@roundtable/client');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.types, './client.d.ts');
  assert.deepEqual(Object.keys(pkg.dependencies || {}), [], 'the client has no dependencies');
  for (const [sub, target] of Object.entries(pkg.exports)) {
    for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
      assert.ok(existsSync(join(WEB, file)), `exports["${sub}"] names ${file}, which does not exist`);
      assert.ok(file === './package.json' || pkg.files.includes(file.slice(2)), `exports["${sub}"]: ${file} is not in "files"`);
    }
  }
});

test('every module the package publishes imports only files it publishes', () => {
  for (const f of pkg.files.filter((x) => x.endsWith('.js') || x.endsWith('.d.ts'))) {
    const text = readFileSync(join(WEB, f), 'utf8');
    const specs = [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm), ...text.matchAll(/import\('([^']+)'\)/g)];
    assert.ok(!f.endsWith('client.js') || specs.length >= 3, `${f}: its imports were not found`);
    for (const [, spec] of specs) {
      assert.ok(spec.startsWith('./'), `${f} imports ${spec}: the package has no dependencies`);
      // A declaration file's './x.js' is the published x.d.ts; a module's is the published x.js.
      const needed = f.endsWith('.d.ts') ? spec.slice(2).replace(/\.js$/, '.d.ts') : spec.slice(2);
      assert.ok(pkg.files.includes(needed), `${f} imports ${spec}, but ${needed} is not published`);
    }
  }
});

test("the package's exports resolve and load from a consumer's node_modules", () => {
  const dir = mkdtempSync(join(tmpdir(), 'rt-pkg-'));
  try {
    mkdirSync(join(dir, 'node_modules', '@roundtable'), { recursive: true });
    symlinkSync(WEB, join(dir, 'node_modules', '@roundtable', 'client'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(dir, 'probe.js'), `
      import { createRequire } from 'node:module';
      const main = await import('@roundtable/client');
      const client = await import('@roundtable/client/client.js');
      const state = await import('@roundtable/client/state.js');
      const transport = await import('@roundtable/client/transport.js');
      const session = await import('@roundtable/client/session.js');
      const version = createRequire(import.meta.url)('@roundtable/client/package.json').version;
      let internal = 'loaded';
      try { await import('@roundtable/client/app.js'); } catch (e) { internal = e.code; }
      console.log(JSON.stringify({
        main: Object.keys(main).sort(), same: main.RoundtableClient === client.RoundtableClient && main.default === client.RoundtableClient,
        state: Object.keys(state).sort(), transport: Object.keys(transport).sort(), session: Object.keys(session).sort(), version, internal,
      }));`);
    const r = spawnSync(process.execPath, ['probe.js'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    for (const name of ['RoundtableClient', 'RoundtableError', 'defaultURL', 'roomURL', 'normalizeCode', 'emptyState', 'reduce', 'Transport', 'SessionStore', 'default']) {
      assert.ok(got.main.includes(name), `@roundtable/client does not export ${name}`);
    }
    assert.ok(got.same, 'the main entry and ./client.js differ');
    assert.deepEqual(got.state, ['byId', 'emptyState', 'reduce', 'reduceAck']);
    assert.ok(got.transport.includes('Transport') && got.transport.includes('systemClock'));
    assert.ok(got.session.includes('SessionStore'));
    assert.equal(got.version, pkg.version);
    assert.equal(got.internal, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'the web app\'s own modules are not part of the package');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web/messages.d.ts is what Scripts/contract/gen_dts.mjs makes from docs/schema', () => {
  const gen = join(ROOT, 'Scripts', 'contract', 'gen_dts.mjs');
  const r = spawnSync(process.execPath, [gen, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // And the check notices a schema change: a new field on a need makes the committed file stale.
  const dir = mkdtempSync(join(tmpdir(), 'rt-schema-'));
  try {
    cpSync(join(ROOT, 'docs', 'schema'), dir, { recursive: true });
    const common = JSON.parse(readFileSync(join(dir, 'common.json'), 'utf8'));
    common.$defs.need.properties.colour = { type: 'string' };
    writeFileSync(join(dir, 'common.json'), JSON.stringify(common));
    const stale = spawnSync(process.execPath, [gen, '--check', '--schema', dir], { encoding: 'utf8' });
    assert.equal(stale.status, 1, 'a changed schema did not make messages.d.ts stale');
    assert.match(stale.stderr, /stale: run `node Scripts\/contract\/gen_dts.mjs`/);
    const out = join(dir, 'messages.d.ts');
    assert.equal(spawnSync(process.execPath, [gen, '--schema', dir, '--out', out]).status, 0);
    assert.match(readFileSync(out, 'utf8'), /export type Need = \{[^}]*colour\?: string;/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gen_dts.mjs refuses a schema keyword it cannot type instead of dropping it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rt-schema-'));
  try {
    cpSync(join(ROOT, 'docs', 'schema'), dir, { recursive: true });
    const common = JSON.parse(readFileSync(join(dir, 'common.json'), 'utf8'));
    common.$defs.need.properties.pair = { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }] };
    writeFileSync(join(dir, 'common.json'), JSON.stringify(common));
    const r = spawnSync(process.execPath, [join(ROOT, 'Scripts', 'contract', 'gen_dts.mjs'), '--schema', dir, '--out', join(dir, 'out.d.ts')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /common#need\.pair: schema keyword prefixItems is not supported by gen_dts\.mjs/);
    assert.ok(!existsSync(join(dir, 'out.d.ts')), 'a partial file was written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each module exports at run time exactly the values its declaration file declares', async () => {
  for (const name of ['client', 'state', 'transport', 'session']) {
    const dts = readFileSync(join(WEB, `${name}.d.ts`), 'utf8');
    const declared = new Set([...dts.matchAll(/^export (?:declare )?(?:function|class|const|let) (\w+)/gm)].map((m) => m[1]));
    for (const [, list] of dts.matchAll(/^export \{([^}]+)\} from/gm)) for (const n of list.split(',')) declared.add(n.trim());
    if (/^export default /m.test(dts)) declared.add('default');
    const actual = Object.keys(await import(`../../../web/${name}.js`));
    assert.deepEqual([...declared].sort(), actual.sort(), `${name}.d.ts and ${name}.js disagree`);
  }
});
