// docker's "Are you sure you want to continue? [y/N]" before a prune: the answer is read from stdin,
// piped or typed; an empty answer or stdin ending first is no.

/** One line of stdin; empty when stdin ends first. */
export function readAnswer(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      process.stdin.off('data', onData);
      process.stdin.off('end', done);
      process.stdin.pause();
      resolve(text.split('\n')[0]!.trim());
    };
    const onData = (b: Buffer) => {
      text += b.toString();
      if (text.includes('\n')) done();
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', done);
  });
}

/** Prints the warning and the question; true for "y" or "yes". */
export async function confirm(warning: string): Promise<boolean> {
  process.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  return /^y(es)?$/i.test(await readAnswer());
}
