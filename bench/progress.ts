// One progress line on stderr: rewritten in place on a terminal, one line per update otherwise.

const tty = Boolean(process.stderr.isTTY);
let shown = false;

export function progress(text: string): void {
  if (tty) {
    const width = process.stderr.columns || 100;
    process.stderr.write('\r\x1b[K' + (text.length >= width ? text.slice(0, width - 1) : text));
    shown = true;
  } else {
    process.stderr.write(text + '\n');
  }
}

/** Clears the progress line (before printing results or a warning). */
export function clearProgress(): void {
  if (tty && shown) process.stderr.write('\r\x1b[K');
  shown = false;
}

export function warn(text: string): void {
  clearProgress();
  process.stderr.write(`warning: ${text}\n`);
}
