// berth: the command line. Errors print as one line "Error: <message>" on stderr, no stack trace; the exit
// code is docker's: the container's own for run/start -a/exec, 125 for a bad flag and for any failure of run
// or create, 1 when a service refuses another verb, 126 when the command cannot be invoked, 127 when it is
// not found.
import { CommanderError } from 'commander';
import { CliError, EXIT_BERTH_FAILED } from './cli-error';
import { closeConnections } from './context';
import { buildProgram } from './program';

function message(e: unknown): string {
  if (e instanceof CommanderError) {
    return e.message.replace(/^error: /, '').replace(/\n.*$/s, '');
  }
  return e instanceof Error ? e.message : String(e);
}

/** The verb, after any subcommand group: `run`, or `create` of `container create`. */
function verbOf(argv: string[]): string {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'container' ? (words[1] ?? '') : (words[0] ?? '');
}

/**
 * docker's codes: a bad flag or argument, and any failure of run and create, are 125; a refusal by a service
 * in any other verb (logs, network connect, pull...) is 1, as docker's "Error response from daemon".
 */
function exitCode(e: unknown, argv: string[]): number {
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof CommanderError) return EXIT_BERTH_FAILED;
  const se = e as { exitCode?: unknown };
  // SDK StartFailedError carries docker's code for a command that could not be started.
  if (typeof se?.exitCode === 'number' && se.exitCode > 0) return se.exitCode;
  return ['run', 'create'].includes(verbOf(argv)) ? EXIT_BERTH_FAILED : 1;
}

/**
 * Ends the process once stdout and stderr have flushed. The process ends on its own (exitCode set, nothing
 * left open): process.exit() could deadlock in Node 20's platform shutdown while a background V8 job waited for
 * a GC (a CLI that printed and never ended). An unref'd timer exits hard if something still holds the loop.
 */
function exit(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) setTimeout(() => process.exit(code), 2000).unref();
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

/** Runs one command line; `program` is prebuilt when the CLI starts from its snapshot (snapshot-entry.ts). */
export async function main(argv: string[], program = buildProgram()): Promise<void> {
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')) {
      code = 0;
    } else if (e instanceof CommanderError && e.code === 'commander.executeSubCommandAsync') {
      code = e.exitCode;
    } else {
      if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
      process.stderr.write(`Error: ${message(e)}\n`);
      if (process.env.BERTH_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      code = exitCode(e, argv);
    }
  }
  closeConnections();
  exit(code);
}

if (require.main === module) void main(process.argv.slice(2));
