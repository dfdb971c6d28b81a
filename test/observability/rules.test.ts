// The alert rules (deploy/prometheus/rules.yaml, kept in the operator chart) through the
// real promtool: they load, each alert has a test file of its own in rules/ that
// promtool runs (firing when it should, silent when it should not, with the
// annotations a person on call reads), and each names a runbook section that exists.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { repoRoot, requireEngines } from '../engines/engines.ts';

const rulesFile = join(repoRoot, 'deploy/prometheus/rules.yaml');
const testsDir = join(repoRoot, 'test/observability/rules');
const testFiles = readdirSync(testsDir).filter((f) => f.endsWith('.yaml'));

type Rule = { alert: string; expr: string; labels?: Record<string, string> } & {
  annotations?: Record<string, string>;
};
const alerts = (
  YAML.parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);

const promtool = (...args: string[]) =>
  promisify(execFile)(requireEngines('promtool').promtool, args, { cwd: testsDir });

describe('alert rules', () => {
  it('at least the eight alerts of README: Observability, each checked by promtool check rules', async () => {
    const { stdout } = await promtool('check', 'rules', rulesFile);
    expect(stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
  });

  it('every alert has a promtool test file of its own that fires it and keeps it silent; promtool test rules passes them all', async () => {
    const tested = testFiles.map((file) => {
      const { tests } = YAML.parse(readFileSync(join(testsDir, file), 'utf8')) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      };
      const cases = tests.flatMap((t) => t.alert_rule_test);
      const names = [...new Set(cases.map((c) => c.alertname))];
      expect(names, file).toHaveLength(1);
      expect(cases.some((c) => c.exp_alerts.length === 0)).toBe(true);
      expect(cases.some((c) => c.exp_alerts.length > 0)).toBe(true);
      return names[0];
    });
    expect(tested.sort()).toEqual(alerts.map((a) => a.alert).sort());
    const { stdout } = await promtool('test', 'rules', ...testFiles);
    expect(stdout.match(/SUCCESS/g)).toHaveLength(testFiles.length);
  });

  it('every alert has a severity, a summary, and a description that names its runbook section, which exists', () => {
    const runbook = readFileSync(join(repoRoot, 'docs/runbook.md'), 'utf8');
    for (const a of alerts) {
      expect(['warning', 'critical']).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description).toContain(`docs/runbook.md#${a.alert.toLowerCase()}`);
      expect(runbook).toContain(`\n### ${a.alert}\n`);
    }
  });
});
