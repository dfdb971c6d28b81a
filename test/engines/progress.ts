// Progress of an engine build that a person can follow: which engine, which
// phase, how long so far. On a terminal one status line is redrawn every
// second; elsewhere (CI, pipes, logs) plain lines are printed when a phase
// starts and every 30 s while it runs.

export interface Progress {
  /** An engine starts: `index` of `total` engines to build in this run. */
  engine(name: string, index: number, total: number): void;
  /** The current engine enters a phase (resolving, downloading modules, compiling …). */
  phase(name: string): void;
  /** A count within the phase ("412/2403 packages"); shown, never printed as its own line. */
  detail(text: string): void;
  /** A line that stays (results, warnings). */
  log(line: string): void;
  /** Stops redrawing; call once at the end. */
  close(): void;
}

const PREFIX = '[engines]';

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  heartbeatMs = 30_000,
): Progress {
  const tty = Boolean(stream.isTTY);
  let engine = '';
  let counter = '';
  let phase = '';
  let detail = '';
  let engineStarted = Date.now();
  let drawn = false;

  const status = (): string =>
    `${PREFIX} ${engine}${counter}: ${phase}${detail ? ` ${detail}` : ''} · ${formatElapsed(Date.now() - engineStarted)}`;
  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[K');
    drawn = false;
  };
  const draw = (): void => {
    if (!engine) return;
    const line = status();
    const width = stream.columns || 120;
    stream.write(`\r\x1b[K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
    drawn = true;
  };
  const timer = setInterval(
    tty ? draw : () => engine && stream.write(`${status()}\n`),
    tty ? 1000 : heartbeatMs,
  );
  timer.unref();

  return {
    engine(name, index, total) {
      engine = name;
      counter = total > 1 ? ` (${index}/${total})` : '';
      phase = 'starting';
      detail = '';
      engineStarted = Date.now();
    },
    phase(name) {
      phase = name;
      detail = '';
      if (tty) draw();
      else stream.write(`${status()}\n`);
    },
    detail(text) {
      detail = text;
    },
    log(line) {
      clear();
      stream.write(`${PREFIX} ${line}\n`);
      if (tty) draw();
    },
    close() {
      clearInterval(timer);
      clear();
      engine = '';
    },
  };
}
