// Synchronous clean-up that must run however this process ends: normal exit,
// SIGINT, SIGTERM or SIGHUP (an uncaught exception ends in 'exit' too).
const tasks = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const task of [...tasks]) {
    tasks.delete(task);
    try {
      task();
    } catch {
      // best effort: keep cleaning up the rest
    }
  }
}

/** Registers `task` to run once at process end; returns a function that unregisters it. */
export function atProcessEnd(task: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const [sig, num] of [
      ['SIGINT', 2],
      ['SIGTERM', 15],
      ['SIGHUP', 1],
    ] as const) {
      process.on(sig, () => {
        runAll();
        // When nobody else handles the signal, behave like the default: exit.
        if (process.listenerCount(sig) <= 1) process.exit(128 + num);
      });
    }
  }
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}
