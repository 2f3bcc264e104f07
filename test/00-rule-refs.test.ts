/**
 * Rule references resolve inside the repository: every rule id (`§2.1.6`, `§3`, `D17`, `§D17`,
 * ranges such as `D17–D20`) cited in the code, tests, tools, docs, schema, scenario traces and
 * README has exactly one heading in docs/kernel-rules.md, and every heading there is cited
 * somewhere or says it is not modelled. Nothing may point at a rule document outside the repository.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const RULES = 'docs/kernel-rules.md';
const SELF = 'test/00-rule-refs.test.ts';
const SCANNED = ['src', 'cli', 'test', 'tools', 'docs', 'schema', 'traces/scenarios', 'README.md'];
const TEXT = /\.(ts|tsx|mjs|js|md|c|h|sh|sql|json|jsonl)$/;

function filesUnder(rel: string): string[] {
  if (!statSync(join(ROOT, rel)).isDirectory()) return [rel];
  return readdirSync(join(ROOT, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(rel, e.name)) : TEXT.test(e.name) ? [join(rel, e.name)] : [],
  );
}

/** Rule ids cited in a text: `§x.y` sections and `Dn` divergences (`§Dn`, `Dn–Dm`, `D7/D8`). */
function citedIds(text: string): Set<string> {
  const ids = new Set<string>();
  for (const m of text.matchAll(/§\s?(\d+(?:\.\d+)*)/g)) ids.add(`§${m[1]}`);
  for (const m of text.matchAll(/(?<!\w)§?D(\d+)(?:\s*[–-]\s*D?(\d+))?(?!\w)/g)) {
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= Math.max(from, to); i++) ids.add(`D${i}`);
  }
  return ids;
}

/** The headings of docs/kernel-rules.md that define an id, with the text of their section. */
function definedIds(doc: string): { id: string; body: string }[] {
  const heads = [...doc.matchAll(/^#{2,4} (§\d+(?:\.\d+)*|D\d+) .*$/gm)];
  return heads.map((h, i) => ({ id: h[1]!, body: doc.slice(h.index, heads[i + 1]?.index ?? doc.length) }));
}

const doc = readFileSync(join(ROOT, RULES), 'utf8');
const defined = definedIds(doc);
const files = SCANNED.flatMap(filesUnder).filter((f) => f !== RULES && f !== SELF);
const citations = new Map<string, string[]>();
for (const f of files) {
  for (const id of citedIds(readFileSync(join(ROOT, f), 'utf8'))) citations.set(id, [...(citations.get(id) ?? []), f]);
}

describe('rule references (docs/kernel-rules.md)', () => {
  it('finds the citations it is meant to check', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(citations.get('D17')).toEqual(expect.arrayContaining(['test/90-scenario-remap.test.ts', 'README.md']));
    expect(citations.get('§2.1.6')).toContain('src/mm/fault.ts');
  });

  it('reads ranges, probe names and the README spelling as the ids they name', () => {
    expect([...citedIds('D17–D20, §D7–D9, probe D19/D20-swap, §2.3–§2.5')].sort()).toEqual(
      ['D17', 'D18', 'D19', 'D20', 'D7', 'D8', 'D9', '§2.3', '§2.5'].sort(),
    );
    expect([...citedIds('case_D1, 0xD1, DD1, §2.1.')]).toEqual(['§2.1']);
  });

  it('defines every id once', () => {
    const seen = defined.map((d) => d.id);
    expect(seen.filter((id, i) => seen.indexOf(id) !== i)).toEqual([]);
  });

  it('defines every id cited in the repository (and in the rules themselves)', () => {
    const have = new Set(defined.map((d) => d.id));
    const missing = [...citations].filter(([id]) => !have.has(id)).map(([id, where]) => `${id} (${where.join(', ')})`);
    const missingInDoc = [...citedIds(doc)].filter((id) => !have.has(id));
    expect(missing).toEqual([]);
    expect(missingInDoc).toEqual([]);
  });

  it('cites every id it defines, or says the rule is not modelled', () => {
    const orphans = defined.filter((d) => !citations.has(d.id) && !/not modelled/i.test(d.body)).map((d) => d.id);
    expect(orphans).toEqual([]);
  });

  it('points nowhere outside the repository', () => {
    const outside = files.filter((f) => /kernel-semantics\.md|\.\.\/shared\//.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(outside).toEqual([]);
  });
});
