// What Node's fs cannot do: device nodes, FIFOs and xattrs (overlay whiteouts are 0:0 character devices,
// opaque dirs carry trusted.overlay.opaque=y). Done with mknod(1) and setfattr/getfattr (package `attr`),
// batched: one process per batch, never one per file.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface NodeSpec {
  path: string;
  kind: 'c' | 'b' | 'p';
  major: number;
  minor: number;
}

export class SpecialFileError extends Error {}

// Arguments per process, well under ARG_MAX.
const NODES_PER_EXEC = 2000;
const MKNOD_SCRIPT = 'while [ $# -gt 0 ]; do if [ "$2" = p ]; then mknod -- "$1" p; else mknod -- "$1" "$2" "$3" "$4"; fi || exit 1; shift 4; done';

/** Creates device nodes and FIFOs (mode and owner are set by the caller afterwards). */
export async function makeNodes(nodes: NodeSpec[]): Promise<void> {
  for (let i = 0; i < nodes.length; i += NODES_PER_EXEC) {
    const args = nodes.slice(i, i + NODES_PER_EXEC).flatMap((n) => [n.path, n.kind, String(n.major), String(n.minor)]);
    try {
      await run('/bin/sh', ['-c', MKNOD_SCRIPT, 'mknod-batch', ...args], { maxBuffer: 1 << 20 });
    } catch (err) {
      throw new SpecialFileError(`mknod failed: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
  }
}

/** getfattr's path escaping: backslash, newline and other control bytes as \ooo octal. */
function escapePath(p: string): string {
  return p.replace(/[\\\x00-\x1f\x7f]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

function unescapePath(p: string): string {
  if (!p.includes('\\')) return p;
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of p.matchAll(/\\([0-7]{3})/g)) {
    parts.push(Buffer.from(p.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1]!, 8)]));
    last = m.index! + m[0].length;
  }
  parts.push(Buffer.from(p.slice(last), 'utf8'));
  return Buffer.concat(parts).toString('utf8');
}

export interface XattrSpec {
  path: string;
  name: string;
  value: Buffer;
}

/** Sets extended attributes without following symlinks, all in one setfattr --restore. */
export async function setXattrs(attrs: XattrSpec[]): Promise<void> {
  if (attrs.length === 0) return;
  let dump = '';
  for (const a of attrs) dump += `# file: ${escapePath(a.path)}\n${a.name}=0x${a.value.toString('hex')}\n\n`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile('setfattr', ['-h', '--restore=-'], { maxBuffer: 1 << 20 }, (err, _out, stderr) => {
      if (err) reject(new SpecialFileError(`setfattr failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
    child.stdin!.end(Buffer.from(dump, 'utf8'));
  });
}

/**
 * Extended attributes whose names match `pattern` (a getfattr regex) of every path under the given roots,
 * recursively, without following symlinks: one getfattr for all roots. Keyed by absolute path.
 */
export async function dumpXattrs(roots: string[], pattern: string): Promise<Map<string, Map<string, Buffer>>> {
  const found = new Map<string, Map<string, Buffer>>();
  if (roots.length === 0) return found;
  let stdout: string;
  try {
    ({ stdout } = await run('getfattr', ['-R', '-h', '-e', 'hex', '--absolute-names', '-d', '-m', pattern, '--', ...roots], { maxBuffer: 256 << 20 }));
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    // getfattr exits 1 on entries it cannot read; keep what it printed.
    if (e.stdout === undefined) throw new SpecialFileError(`getfattr failed: ${e.stderr?.trim() || String(err)}`);
    stdout = e.stdout;
  }
  let current: Map<string, Buffer> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      found.set(unescapePath(line.slice(8)), current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq <= 0) continue;
    const v = line.slice(eq + 1);
    current.set(line.slice(0, eq), v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v.replace(/^"|"$/g, '')));
  }
  return found;
}

/** Paths under the roots that carry the xattr `name`, with its value. */
export async function findXattr(roots: string[], name: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [p, attrs] of await dumpXattrs(roots, '^' + name.replace(/[.]/g, '\\.') + '$')) {
    const v = attrs.get(name);
    if (v) out.set(p, v);
  }
  return out;
}
