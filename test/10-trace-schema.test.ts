import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMON_FIELDS, HEADER_FIELDS, JSONL_OPS, OP_FIELDS } from '../src/trace/json-fields.js';
import { isSkippedLine, parseRecord } from '../src/trace/jsonl.js';

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(new URL('../schema/trace.schema.json', import.meta.url), 'utf8')) as Schema;
const defs = schema.$defs as Record<string, Schema>;

/**
 * A small JSON Schema 2020-12 validator: the keywords schema/trace.schema.json uses. Returns the
 * list of failures (empty when valid). Unknown keywords fail loudly so the subset cannot drift.
 */
function validate(s: Schema, v: unknown, path = '$'): string[] {
  const errs: string[] = [];
  const typeOf = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);
  for (const [k, arg] of Object.entries(s)) {
    switch (k) {
      case '$schema':
      case '$id':
      case 'title':
      case 'description':
      case 'default':
      case '$defs':
      case 'examples':
        break;
      case '$ref': {
        const m = /^#\/\$defs\/(.+)$/.exec(arg as string);
        if (!m || !defs[m[1]!]) throw new Error(`bad $ref ${String(arg)}`);
        errs.push(...validate(defs[m[1]!]!, v, path));
        break;
      }
      case 'type': {
        const types = Array.isArray(arg) ? (arg as string[]) : [arg as string];
        const t = typeOf(v);
        const ok = types.some((want) => want === t || (want === 'integer' && t === 'number' && Number.isInteger(v)));
        if (!ok) errs.push(`${path}: expected ${types.join('|')}, found ${t}`);
        break;
      }
      case 'const':
        if (v !== arg) errs.push(`${path}: expected ${JSON.stringify(arg)}`);
        break;
      case 'enum':
        if (!(arg as unknown[]).includes(v)) errs.push(`${path}: not in enum`);
        break;
      case 'pattern':
        if (typeof v === 'string' && !new RegExp(arg as string, 'u').test(v)) errs.push(`${path}: does not match ${String(arg)}`);
        break;
      case 'minimum':
        if (typeof v === 'number' && v < (arg as number)) errs.push(`${path}: below ${String(arg)}`);
        break;
      case 'maximum':
        if (typeof v === 'number' && v > (arg as number)) errs.push(`${path}: above ${String(arg)}`);
        break;
      case 'minLength':
        if (typeof v === 'string' && v.length < (arg as number)) errs.push(`${path}: too short`);
        break;
      case 'required':
        if (typeOf(v) === 'object') for (const r of arg as string[]) if (!(r in (v as object))) errs.push(`${path}: missing ${r}`);
        break;
      case 'properties':
        if (typeOf(v) === 'object') {
          for (const [p, ps] of Object.entries(arg as Record<string, Schema>)) {
            if (p in (v as object)) errs.push(...validate(ps, (v as Record<string, unknown>)[p], `${path}.${p}`));
          }
        }
        break;
      case 'additionalProperties':
        if (arg !== false) throw new Error('only additionalProperties: false is supported');
        if (typeOf(v) === 'object') {
          for (const p of Object.keys(v as object)) if (!(p in ((s.properties as object) ?? {}))) errs.push(`${path}: unknown property ${p}`);
        }
        break;
      case 'items':
        if (Array.isArray(v)) for (const [i, x] of v.entries()) errs.push(...validate(arg as Schema, x, `${path}[${i}]`));
        break;
      case 'anyOf':
        if (!(arg as Schema[]).some((a) => validate(a, v, path).length === 0)) errs.push(`${path}: matches none of anyOf`);
        break;
      case 'oneOf': {
        const n = (arg as Schema[]).filter((a) => validate(a, v, path).length === 0).length;
        if (n !== 1) errs.push(`${path}: matches ${n} of oneOf`);
        break;
      }
      case 'not':
        if (validate(arg as Schema, v, path).length === 0) errs.push(`${path}: matches "not"`);
        break;
      default:
        throw new Error(`schema keyword ${k} not supported by the test validator`);
    }
  }
  return errs;
}

/** Every record line of a JSONL file with its line number. */
function recordLines(path: string): Array<[number, string]> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line, i) => (isSkippedLine(line) ? [] : [[i + 1, line] as [number, string]]));
}

const SAMPLE_FILES = [
  new URL('./fixtures/trace/all-ops.jsonl', import.meta.url).pathname,
  ...(() => {
    const dir = new URL('../traces/scenarios/', import.meta.url).pathname;
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.jsonl'))
          .map((f) => dir + f)
      : [];
  })(),
];

describe('schema/trace.schema.json', () => {
  it('is a draft 2020-12 schema with one alternative per op plus the header', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const refs = (schema.oneOf as Schema[]).map((r) => r.$ref as string);
    expect(refs).toEqual(['#/$defs/header', ...JSONL_OPS.map((op) => `#/$defs/op_${op}`)]);
  });

  it("lists exactly the parser's ops and, for each, exactly the keys the parser takes, each described", () => {
    for (const op of JSONL_OPS) {
      const d = defs[`op_${op}`]!;
      const props = d.properties as Record<string, Schema>;
      expect(props.op).toEqual({ const: op });
      expect(Object.keys(props).sort()).toEqual([...COMMON_FIELDS, ...OP_FIELDS[op]].sort());
      expect(typeof d.description).toBe('string');
      for (const [key, p] of Object.entries(props)) {
        if (key === 'op') continue;
        const described =
          typeof p.description === 'string' || (typeof p.$ref === 'string' && typeof defs[(p.$ref as string).slice(8)]?.description === 'string');
        expect(described, `${op}.${key} has a description`).toBe(true);
      }
    }
    expect(Object.keys(defs.header!.properties as object).sort()).toEqual([...HEADER_FIELDS].sort());
  });

  it.each(SAMPLE_FILES)('every record line of %s validates and parses', (file) => {
    const lines = recordLines(file);
    expect(lines.length).toBeGreaterThan(0);
    for (const [n, line] of lines) {
      expect(validate(schema, JSON.parse(line)), `${file}:${n}`).toEqual([]);
      expect(() => parseRecord(line, n, file)).not.toThrow();
    }
  });

  it('rejects what the parser rejects: unknown keys, missing fields, bad integers, bad names', () => {
    const bad = [
      '{"op":"write","addr":1,"len":4}',
      '{"op":"write"}',
      '{"op":"write","addr":"0xZZ"}',
      '{"op":"write","addr":-1}',
      '{"op":"mmap","len":4096,"prot":"rw","flags":["anon"]}',
      '{"op":"mmap","len":4096,"prot":"rwq","flags":["shared"],"file":"f"}',
      '{"op":"mmap","len":4096,"prot":"r","flags":["shared"],"file":"f","memfd":"m"}',
      '{"op":"madvise","addr":0,"len":1,"advice":"sequential"}',
      '{"op":"pagemap_read","offset":0,"pages":1}',
      '{"op":"pwrite","len":1}',
      '{"op":"store","addr":1}',
      '{"pteplay":"trace","version":2}',
    ];
    for (const line of bad) {
      expect(validate(schema, JSON.parse(line)), line).not.toEqual([]);
      expect(() => parseRecord(line, 1, 'x'), line).toThrow();
    }
  });

  it('accepts the kernel spellings the parser accepts', () => {
    for (const line of [
      '{"op":"madvise","addr":0,"len":4096,"advice":"MADV_DONTNEED"}',
      '{"op":"mmap","len":4096,"prot":["PROT_READ"],"flags":["MAP_PRIVATE","Map_Anonymous"]}',
      '{"op":"uffdio_api","fd":3,"features":["UFFD_FEATURE_WP_ASYNC"]}',
    ]) {
      expect(validate(schema, JSON.parse(line)), line).toEqual([]);
      expect(() => parseRecord(line, 1, 'x'), line).not.toThrow();
    }
  });
});
