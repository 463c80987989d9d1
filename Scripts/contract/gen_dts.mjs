#!/usr/bin/env node
// Writes web/messages.d.ts, the TypeScript types of every request, ack, event, notice and error code,
// from docs/schema/*.json. Plain node, no packages: `node Scripts/contract/gen_dts.mjs` after any schema
// change; `--check` exits 1 when the committed file differs from what the schemas give (the drift
// test runs it). A schema keyword this generator does not know fails the run instead of being dropped.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// `--schema DIR` and `--out FILE` let the tests run it on a changed copy of the schemas.
const arg = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
const SCHEMA = arg('--schema', join(ROOT, 'docs', 'schema'));
const OUT = arg('--out', join(ROOT, 'web', 'messages.d.ts'));
const FILES = ['common', 'requests', 'acks', 'events', 'notices', 'errors', 'http'];

// Keywords that only constrain values (limits, conditionals, exactness): TypeScript cannot say them, so
// they are left to the schema (and shown in the doc comments where they are limits).
const CONSTRAINTS = new Set([
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
  'format', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'dependentRequired',
  'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'not', 'contains', 'minContains', 'maxContains',
  'dependentSchemas', 'unevaluatedItems',
]);
const ANNOTATIONS = new Set([
  '$schema', '$id', '$anchor', '$comment', 'title', 'description', 'default', '$defs', 'examples', 'deprecated',
  'readOnly', 'writeOnly', 'contentEncoding', 'contentMediaType',
]);
const SHAPES = new Set(['$ref', 'type', 'const', 'enum', 'properties', 'patternProperties', 'required', 'additionalProperties', 'items', 'oneOf', 'anyOf', 'allOf']);
const LIMITS = ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern', 'format'];

const docs = Object.fromEntries(FILES.map((f) => [f, JSON.parse(readFileSync(join(SCHEMA, `${f}.json`), 'utf8'))]));

const pascal = (s) => s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
// The type name of each schema definition: shared shapes by their own name, messages by type and kind.
const SUFFIX = { requests: 'Request', acks: 'Ack', events: 'Event', notices: 'Notice' };
function typeName(file, def) {
  if (file === 'common') return pascal(def);
  if (file === 'errors') return def === 'error' ? 'ErrorReply' : 'ErrorCode';
  if (file === 'http') return `Http${pascal(def)}`;
  return pascal(def) + SUFFIX[file];
}

// A reference to a definition is its type's name; one deeper into a definition (a property of it) is
// inlined, since it has no name of its own.
function resolveRef(ref, file) {
  const m = /^(?:([a-z]+)\.json)?#\/\$defs\/([^/]+)((?:\/[^/]+)*)$/.exec(ref);
  if (!m) throw new Error(`${file}: unsupported $ref ${ref}`);
  const target = m[1] || file;
  let schema = docs[target]?.$defs?.[m[2]];
  for (const part of m[3].split('/').slice(1)) schema = schema?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (schema === undefined) throw new Error(`${file}: $ref ${ref} points nowhere`);
  return { file: target, schema, name: m[3] ? null : typeName(target, m[2]) };
}

const key = (k) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k));
const lit = (v) => JSON.stringify(v);

function comment(schema, pad) {
  const lines = [];
  if (schema && typeof schema === 'object') {
    if (schema.description) lines.push(...schema.description.split('\n'));
    const limits = LIMITS.filter((k) => schema[k] !== undefined).map((k) => `${k} ${schema[k]}`);
    if (limits.length) lines.push(`Limits: ${limits.join(', ')}.`);
    if (schema.default !== undefined) lines.push(`@default ${lit(schema.default)}`);
  }
  if (!lines.length) return '';
  const body = lines.map((l) => l.replace(/\*\//g, '*\\/'));
  if (body.length === 1) return `${pad}/** ${body[0]} */\n`;
  return `${pad}/**\n${body.map((l) => `${pad} * ${l}`).join('\n')}\n${pad} */\n`;
}

/** The fields a schema requires, its own and those of the shapes it references. */
function requiredOf(schema, file) {
  if (!schema || typeof schema !== 'object') return [];
  const own = schema.required || [];
  if (!schema.$ref) return own;
  const next = resolveRef(schema.$ref, file);
  return [...own, ...requiredOf(next.schema, next.file)];
}

/** Whether a schema says anything about the shape of a value (else it only constrains: `unknown`). */
function shapes(schema) {
  if (schema === true || schema === false) return true;
  return Object.keys(schema).some((k) => SHAPES.has(k) && k !== 'required');
}

/** Whether `op` (`|` or `&`) joins the expression at its top level (outside braces, brackets and strings). */
function joinsAtTop(expr, op) {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quoted) { if (c === '\\') i++; else if (c === '"') quoted = false; continue; }
    if (c === '"') quoted = true;
    else if ('{[(<'.includes(c)) depth++;
    else if ('}])>'.includes(c)) depth--;
    else if (depth === 0 && c === op && expr[i - 1] === ' ' && expr[i + 1] === ' ') return true;
  }
  return false;
}

function union(parts) {
  const uniq = [...new Set(parts)];
  if (uniq.includes('unknown')) return 'unknown';
  return uniq.length === 1 ? uniq[0] : uniq.map((p) => (joinsAtTop(p, '&') ? `(${p})` : p)).join(' | ');
}

function intersect(parts) {
  const kept = parts.filter((p) => p !== 'unknown');
  if (!kept.length) return 'unknown';
  return kept.map((p) => (kept.length > 1 && joinsAtTop(p, '|') ? `(${p})` : p)).join(' & ');
}

function objectLiteral(schema, file, pad, where, baseRequired = []) {
  const props = schema.properties || {};
  // A field the referenced shape already requires stays required where this node narrows it.
  const required = new Set([...(schema.required || []), ...baseRequired]);
  const inner = `${pad}  `;
  const lines = [];
  for (const [name, sub] of Object.entries(props)) {
    const opt = required.has(name) ? '' : '?';
    lines.push(comment(sub, inner) + `${inner}${key(name)}${opt}: ${ts(sub, file, inner, `${where}.${name}`)};`);
  }
  const extra = schema.additionalProperties;
  // Keys matching patterns, or any other key: an index signature (TypeScript cannot check the pattern).
  const values = [...Object.values(schema.patternProperties || {}), ...(extra !== undefined && extra !== false && extra !== true ? [extra] : [])];
  if (values.length) {
    if (lines.length) throw new Error(`${where}: properties together with patternProperties or an additionalProperties schema`);
    lines.push(`${inner}[key: string]: ${union(values.map((v, i) => ts(v, file, inner, `${where}[*${i}]`)))};`);
  }
  return lines.length ? `{\n${lines.join('\n')}\n${pad}}` : (extra === false ? 'Record<string, never>' : 'Record<string, unknown>');
}

/** The TypeScript type of a schema, as an expression. */
function ts(schema, file, pad, where) {
  if (schema === true) return 'unknown';
  if (schema === false) return 'never';
  for (const k of Object.keys(schema)) {
    if (!SHAPES.has(k) && !CONSTRAINTS.has(k) && !ANNOTATIONS.has(k)) throw new Error(`${where}: schema keyword ${k} is not supported by gen_dts.mjs`);
  }
  const parts = [];
  let base = null;
  if (schema.$ref) {
    base = resolveRef(schema.$ref, file);
    parts.push(base.name ?? ts(base.schema, base.file, pad, schema.$ref));
  }
  const baseRequired = base ? requiredOf(base.schema, base.file) : [];
  if (schema.const !== undefined) parts.push(lit(schema.const));
  if (schema.enum) parts.push(union(schema.enum.map(lit)));
  const types = schema.type === undefined ? [] : [].concat(schema.type);
  const isObject = types.includes('object') || (!types.length && schema.properties);
  if (types.length) {
    parts.push(union(types.map((t) => {
      switch (t) {
        case 'string': return 'string';
        case 'integer': case 'number': return 'number';
        case 'boolean': return 'boolean';
        case 'null': return 'null';
        case 'array': return schema.items ? `Array<${ts(schema.items, file, pad, `${where}[]`)}>` : 'unknown[]';
        case 'object': return objectLiteral(schema, file, pad, where, baseRequired);
        default: throw new Error(`${where}: unknown type ${t}`);
      }
    })));
  } else if (isObject) {
    parts.push(objectLiteral(schema, file, pad, where, baseRequired));
  }
  // Required fields the node names without defining them: those of the referenced shape.
  const defined = new Set(Object.keys(isObject ? schema.properties || {} : {}));
  const inherited = (schema.required || []).filter((r) => !defined.has(r));
  if (inherited.length && base?.name) {
    const already = new Set(requiredOf(base.schema, base.file));
    const more = inherited.filter((r) => !already.has(r));
    if (more.length) parts.push(`Required<Pick<${base.name}, ${more.map(lit).join(' | ')}>>`);
  }
  for (const k of ['oneOf', 'anyOf']) {
    if (!schema[k]) continue;
    // A list of documented constants (the error codes): one per line, each with its meaning.
    if (schema[k].every((b) => b.const !== undefined && b.description && Object.keys(b).length === 2)) {
      parts.push(`\n${schema[k].map((b) => `${comment(b, `${pad}  `)}${pad}  | ${lit(b.const)}`).join('\n')}`);
      continue;
    }
    const branches = schema[k].map((b, i) => (shapes(b) ? ts(b, file, pad, `${where}.${k}[${i}]`) : 'unknown'));
    parts.push(union(branches));
  }
  if (schema.allOf) parts.push(intersect(schema.allOf.map((b, i) => (shapes(b) ? ts(b, file, pad, `${where}.allOf[${i}]`) : 'unknown'))));
  return intersect(parts);
}

const out = [];
const names = new Map();
function emit(file, def, schema) {
  const name = typeName(file, def);
  if (names.has(name)) throw new Error(`type name ${name} for ${file}#${def} is also ${names.get(name)}`);
  names.set(name, `${file}#${def}`);
  const body = ts(schema, file, '', `${file}#${def}`);
  out.push(comment(schema, '') + `export type ${name} =${body.startsWith('\n') ? '' : ' '}${body};`, '');
  return name;
}
function section(title) {
  out.push(`// ${'-'.repeat(66)} ${title}`, '');
}
function map(name, doc, entries) {
  out.push(`/** ${doc} */`, `export interface ${name} {`, ...entries.map(([k, v]) => `  ${key(k)}: ${v};`), '}', '');
}

const protocol = docs.notices.$defs['room.state'].properties.protocol.const;
out.push(
  '// Generated by Scripts/contract/gen_dts.mjs from docs/schema/*.json: do not edit by hand.',
  '// Regenerate with `node Scripts/contract/gen_dts.mjs` after a schema change (the contract tests fail until then).',
  '// Shapes only: limits appear in the comments, conditional rules (`if`/`then`, "one of these fields") stay in',
  '// the schema, which the server and the contract tests enforce.',
  '',
  '/** The protocol version these types describe (`protocol` in `room.state`, docs/PROTOCOL.md). */',
  `export type ProtocolVersion = ${lit(protocol)};`,
  '',
);

section('shared shapes (common.json)');
for (const [def, s] of Object.entries(docs.common.$defs)) emit('common', def, s);

const reqs = Object.keys(docs.requests.$defs);
section('requests (requests.json)');
for (const def of reqs) emit('requests', def, docs.requests.$defs[def]);
map('RequestMap', 'Every request, by type.', reqs.map((d) => [d, typeName('requests', d)]));
out.push(
  'export type RequestType = keyof RequestMap;',
  'export type Request = RequestMap[RequestType];',
  '/** Omit over each member of a union (plain `Omit` would keep only the fields all members share). */',
  'export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;',
  '/** What `RoundtableClient.request(type, fields)` takes: the request without `type` and `ref`. */',
  "export type RequestFields<T extends RequestType> = DistributiveOmit<RequestMap[T], 'type' | 'ref'>;",
  '',
);

section('acks (acks.json)');
const acks = Object.keys(docs.acks.$defs);
for (const def of acks) emit('acks', def, docs.acks.$defs[def]);
map('AckMap', 'The ack of each request, by request type.', acks.map((d) => [d, typeName('acks', d)]));
out.push('export type Ack = AckMap[keyof AckMap];', '');

section('room events (events.json)');
const events = Object.keys(docs.events.$defs);
for (const def of events) emit('events', def, docs.events.$defs[def]);
map('EventMap', 'Every room event (with `seq`), by type.', events.map((d) => [d, typeName('events', d)]));
out.push('export type EventType = keyof EventMap;', 'export type RoomEvent = EventMap[EventType];', '');

section('notices (notices.json)');
const notices = Object.keys(docs.notices.$defs);
for (const def of notices) emit('notices', def, docs.notices.$defs[def]);
map('NoticeMap', 'Every notice (no `seq`), by type.', notices.map((d) => [d, typeName('notices', d)]));
out.push('export type NoticeType = keyof NoticeMap;', 'export type Notice = NoticeMap[NoticeType];', '');

section('errors (errors.json)');
for (const def of Object.keys(docs.errors.$defs)) emit('errors', def, docs.errors.$defs[def]);

section('server messages');
const all = [...new Set([...events, ...notices])].sort();
map('ServerMessageMap', 'Every message the server sends, by type (a type that is both an event and a notice has both shapes).', [
  ...all.map((t) => [t, union([events.includes(t) && typeName('events', t), notices.includes(t) && typeName('notices', t)].filter(Boolean))]),
  ['ack', 'Ack'], ['error', 'ErrorReply'],
]);
out.push('export type ServerMessageType = keyof ServerMessageMap;', 'export type ServerMessage = ServerMessageMap[ServerMessageType];', '');

section('HTTP bodies (http.json)');
for (const [def, s] of Object.entries(docs.http.$defs)) emit('http', def, s);

const text = out.join('\n').replace(/\n+$/, '\n');
if (process.argv.includes('--check')) {
  let current = '';
  try { current = readFileSync(OUT, 'utf8'); } catch { /* missing: stale */ }
  if (current !== text) {
    console.error(`${OUT} is stale: run \`node Scripts/contract/gen_dts.mjs\` and commit the result`);
    process.exit(1);
  }
  console.log(`${OUT} is up to date`);
} else {
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT} (${names.size} types)`);
}
