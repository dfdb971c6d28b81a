// Reading an upstream go.mod for the wrapper modules (see build.ts).
import type { GoEngineSpec } from './engines.ts';

export interface UpstreamGoMod {
  go?: string;
  godebug: string[];
  requires: Map<string, string>;
  /** [from, to] where `to` is a local directory. */
  localReplaces: string[];
  /** `from => to version` replaces that point at another module. */
  moduleReplaces: string[];
}

/** Reads the parts of a go.mod the wrapper needs. */
export function parseGoMod(text: string): UpstreamGoMod {
  const out: UpstreamGoMod = {
    godebug: [],
    requires: new Map(),
    localReplaces: [],
    moduleReplaces: [],
  };
  let block = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    if (line === ')') {
      block = '';
      continue;
    }
    const open = /^(require|replace|godebug|exclude|retract|tool|ignore)\s*\($/.exec(line);
    if (open) {
      block = open[1] as string;
      continue;
    }
    let kind = block;
    let body = line;
    const single =
      /^(go|toolchain|require|replace|godebug|module|exclude|retract|tool|ignore)\s+(.*)$/.exec(
        line,
      );
    if (!block && single) {
      kind = single[1] as string;
      body = single[2] as string;
    }
    if (kind === 'go') out.go = body;
    else if (kind === 'godebug') out.godebug.push(body.replace(/\s+/g, ''));
    else if (kind === 'require') {
      const [path, version] = body.split(/\s+/);
      if (path && version) out.requires.set(path, version);
    } else if (kind === 'replace') {
      const m = /^(\S+)(?:\s+\S+)?\s*=>\s*(\S+)(?:\s+(\S+))?$/.exec(body);
      if (!m) continue;
      const [, from, to, toVersion] = m as unknown as [string, string, string, string | undefined];
      if (to.startsWith('./') || to.startsWith('../')) out.localReplaces.push(from);
      else if (toVersion) out.moduleReplaces.push(`${from}=${to}@${toVersion}`);
    }
  }
  return out;
}

/** The published version of a module that the upstream go.mod takes from its own repository. */
export function siblingVersion(spec: GoEngineSpec): string {
  // Kubernetes publishes its staging modules as v0.<minor>.<patch> of v1.<minor>.<patch>.
  if (spec.module === 'k8s.io/kubernetes') return spec.version.replace(/^v1\./, 'v0.');
  // Pulumi tags pkg/ and sdk/ together, etcd its server/ and api/ modules.
  return spec.version;
}
