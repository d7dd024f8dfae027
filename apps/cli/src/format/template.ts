// A subset of Go's text/template as docker's --format uses it: {{.A.B}}, {{json .X}}, {{.X | json}},
// {{index .M "key"}}, {{len .X}}, {{join .L ","}}, {{upper .S}}, {{lower .S}}, {{title .S}}, {{println .X}},
// string literals, and the "table" prefix for column output. Values print as Go would print them.
import { UsageError } from '../cli-error';

type Fn = (...args: unknown[]) => unknown;

const FUNCS: Record<string, Fn> = {
  json: (v) => JSON.stringify(v ?? null),
  index: (v, ...keys) => keys.reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[String(k)]), v),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep ?? '')) : goString(v)),
  upper: (v) => goString(v).toUpperCase(),
  lower: (v) => goString(v).toLowerCase(),
  title: (v) => goString(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  println: (...v) => v.map(goString).join(' ') + '\n',
  print: (...v) => v.map(goString).join(''),
};

/** How Go's fmt prints a decoded JSON value: maps as map[k:v], slices as [a b], null as <nil>. */
export function goString(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return '[' + v.map(goString).join(' ') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return 'map[' + Object.keys(o).sort().map((k) => `${k}:${goString(o[k])}`).join(' ') + ']';
  }
  return String(v);
}

type Node = { text: string } | { expr: string };

export class TemplateError extends UsageError {
  constructor(tpl: string, why: string) {
    super(`invalid --format template "${tpl}": ${why}`);
  }
}

function parse(tpl: string): Node[] {
  const out: Node[] = [];
  let i = 0;
  while (i < tpl.length) {
    const open = tpl.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: tpl.slice(i) });
      break;
    }
    if (open > i) out.push({ text: tpl.slice(i, open) });
    const close = tpl.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(tpl, 'unclosed action "{{"');
    out.push({ expr: tpl.slice(open + 2, close).trim().replace(/^-\s*/, '').replace(/\s*-$/, '') });
    i = close + 2;
  }
  return out;
}

function tokens(expr: string, tpl: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\||[^\s|]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(expr))) out.push(m[1]!);
  if (out.length === 0) throw new TemplateError(tpl, 'empty action "{{}}"');
  return out;
}

function operand(tok: string, data: unknown, tpl: string): unknown {
  if (tok.startsWith('"')) return JSON.parse(tok);
  if (tok.startsWith('`')) return tok.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(tok)) return Number(tok);
  if (tok === '.') return data;
  if (tok.startsWith('.')) {
    let v: unknown = data;
    for (const key of tok.slice(1).split('.')) {
      if (v == null || typeof v !== 'object') return undefined;
      const o = v as Record<string, unknown>;
      // Go templates resolve exact field names; docker's structs match JSON keys case-sensitively.
      v = key in o ? o[key] : o[Object.keys(o).find((k) => k.toLowerCase() === key.toLowerCase()) ?? key];
    }
    return v;
  }
  throw new TemplateError(tpl, `unknown operand "${tok}"`);
}

function evalExpr(expr: string, data: unknown, tpl: string): unknown {
  const cmds: string[][] = [[]];
  for (const t of tokens(expr, tpl)) {
    if (t === '|') cmds.push([]);
    else cmds[cmds.length - 1]!.push(t);
  }
  let piped: unknown[] = [];
  for (const cmd of cmds) {
    if (cmd.length === 0) throw new TemplateError(tpl, 'empty command in pipeline');
    const [head, ...rest] = cmd as [string, ...string[]];
    let v: unknown;
    if (head.startsWith('.') || head.startsWith('"') || head.startsWith('`') || /^-?\d/.test(head)) {
      if (rest.length) throw new TemplateError(tpl, `"${head}" is not a function`);
      v = operand(head, data, tpl);
    } else {
      const fn = FUNCS[head];
      if (!fn) throw new TemplateError(tpl, `function "${head}" not defined`);
      v = fn(...rest.map((r) => operand(r, data, tpl)), ...piped);
    }
    piped = [v];
  }
  return piped[0];
}

export interface Template {
  render(data: unknown): string;
  /** With a "table " prefix: the header line. */
  header?: string;
}

/** Compiles a --format value. "table" alone or with a prefix prints a header of the field names. */
export function compileTemplate(format: string): Template {
  let tpl = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let header: string | undefined;
  if (tpl.startsWith('table')) {
    tpl = tpl.slice(5).replace(/^\s+/, '');
    header = tpl.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_m, e: string) => {
      const path = /\.([\w.]+)/.exec(e)?.[1] ?? e;
      return path.split('.').pop()!.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
    });
  }
  const nodes = parse(tpl);
  // Fail on bad expressions before any output.
  for (const n of nodes) if ('expr' in n) tokens(n.expr, tpl);
  const render = (data: unknown) =>
    nodes
      .map((n) => {
        if ('text' in n) return n.text;
        const v = evalExpr(n.expr, data, tpl);
        return typeof v === 'string' ? v : goString(v);
      })
      .join('');
  return header === undefined ? { render } : { render, header };
}
