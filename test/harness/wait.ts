// The one polling helper of the tests and benches (free of vitest, so bench/
// can use it): for what the code under test does in its own time (a delivery,
// a reconcile, an API server cache catching up).

/**
 * Polls `probe` every `intervalMs` until it gives a value (anything but
 * undefined or false) and returns that value; a probe that throws has not
 * got there yet. Past `timeoutMs` it throws, naming `what` and the last error.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 45_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${String(last).slice(0, 300)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
