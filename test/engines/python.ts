// The `pulumi-python` engine: a venv in the engines cache with PyPI's `pulumi`
// at the version versions.json pins (the CLI's), and what the generated Python
// SDK imports besides (`with`). The Python language host
// (sdk/v3 v3.68.0) predates its `virtualenv` option and runs the `python3`
// first on PATH, so the harness puts this venv's `bin` first for Python programs.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pythonPulumiVersion, pythonRequirements } from './engines.ts';
import { formatElapsed, type Progress } from './progress.ts';

function run(command: string, args: string[], progress: Progress): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (line.startsWith('Collecting ')) progress.detail(line.slice('Collecting '.length));
      });
    }
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `\`${command} ${args.join(' ')}\` failed (exit ${code}):\n${tail.join('\n')}`,
            ),
          ),
    );
  });
}

/** Makes the venv whose interpreter is `python` (bin/python3), from scratch. */
export async function buildPythonVenv(python: string, progress: Progress): Promise<void> {
  const venv = dirname(dirname(python));
  const version = pythonPulumiVersion();
  const started = Date.now();
  rmSync(venv, { recursive: true, force: true });
  progress.phase('creating the venv');
  await run('python3', ['-m', 'venv', venv], progress);
  const requirements = pythonRequirements();
  progress.phase(`installing ${requirements.join(' ')}`);
  await run(python, ['-m', 'pip', 'install', '--quiet', ...requirements], progress);
  // Written last: the venv counts as built only once the install went through.
  writeFileSync(join(venv, 'installed.json'), `${JSON.stringify({ requirements })}\n`);
  progress.log(
    `pulumi-python: venv with pulumi==${version} in ${formatElapsed(Date.now() - started)} -> ${venv}`,
  );
}
