import { expect, it } from 'vitest';
import { createProgress, formatElapsed } from './progress.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  const stream = {
    isTTY,
    columns: 80,
    write(chunk: string) {
      writes.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

it('prints plain lines naming engine, phase and elapsed time when not on a terminal', () => {
  const { stream, writes } = fakeStream(false);
  const p = createProgress(stream);
  p.engine('kube-apiserver', 1, 3);
  p.phase('downloading modules');
  p.detail('(12 modules)');
  p.phase('compiling');
  p.log('kube-apiserver: built');
  p.close();
  expect(writes).toEqual([
    '[engines] kube-apiserver (1/3): downloading modules · 0s\n',
    '[engines] kube-apiserver (1/3): compiling · 0s\n',
    '[engines] kube-apiserver: built\n',
  ]);
  expect(writes.join('')).not.toContain('\r');
});

it('redraws one status line on a terminal and keeps logged lines', () => {
  const { stream, writes } = fakeStream(true);
  const p = createProgress(stream);
  p.engine('helm', 1, 1);
  p.phase('compiling');
  p.log('helm: built');
  p.close();
  expect(writes[0]).toBe('\r\x1b[K[engines] helm: compiling · 0s');
  expect(writes).toContain('[engines] helm: built\n');
  expect(writes.at(-1)).toBe('\r\x1b[K');
});

it('formats elapsed time in seconds, then minutes and seconds', () => {
  expect(formatElapsed(4_200)).toBe('4s');
  expect(formatElapsed(133_000)).toBe('2m13s');
});
