// What the demo shows once everything is up: the platform's tiers, entities as
// a tree with their tokens (hints only), the Secrets the operator wrote, and
// where to look next. Values never appear: only hints and key names.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { TokenplaneClient } from '../core/client/index.ts';
import type { Entity } from '../core/schemas/entity.ts';

export type Places = {
  platformUrl: string;
  adminKeyFile: string;
  kubeconfig: string;
  metricsUrl: string;
  logs: Record<string, string>;
  /** A shell command printing the Pulumi stack's outputs. */
  pulumiOutputs: string;
};

export async function summary(
  client: TokenplaneClient,
  kc: KubeConfig,
  namespaces: string[],
  places: Places,
): Promise<string> {
  const lines: string[] = [];
  const tiers = await client.listTiers();
  lines.push('Tiers');
  for (const t of tiers)
    lines.push(`  ${t.name.padEnd(10)} rank ${t.rank}, ${t.tokenQuota} token(s)`);

  const entities = await client.listAllEntities();
  lines.push('', `Entities (${entities.length}) and their tokens`);
  const children = (parentId: string | null) => entities.filter((e) => e.parentId === parentId);
  const walk = async (entity: Entity, depth: number) => {
    const pad = '  '.repeat(depth + 1);
    lines.push(
      `${pad}${entity.name} — ${entity.kind}, ${entity.tier}, ${entity.tokenCount}/${entity.tokenQuota} tokens`,
    );
    for (const token of await client.listAllTokens(entity.id)) {
      const expires = token.expiresAt ? `expires ${token.expiresAt.slice(0, 10)}` : 'no expiry';
      lines.push(`${pad}  · ${token.name} ${token.hint} (${token.status}, ${expires})`);
    }
    for (const child of children(entity.id)) await walk(child, depth + 1);
  };
  for (const top of children(null)) await walk(top, 0);

  const core = kc.makeApiClient(CoreV1Api);
  lines.push('', 'Secrets written by the operator');
  for (const namespace of namespaces) {
    const { items } = await core.listNamespacedSecret({
      namespace,
      labelSelector: 'app.kubernetes.io/managed-by=tokenplane',
    });
    for (const s of items) {
      const keys = Object.keys(s.data ?? {})
        .sort()
        .join(', ');
      lines.push(`  ${namespace}/${s.metadata?.name} (${keys})`);
    }
  }

  lines.push('', 'Where to look next', ...next(places));
  return lines.join('\n');
}

function next(p: Places): string[] {
  const logs = Object.entries(p.logs).map(([what, path]) => `    ${what.padEnd(14)} ${path}`);
  return [
    `  Platform API   ${p.platformUrl}  (admin key in ${p.adminKeyFile})`,
    `                 curl -H "Authorization: Bearer $(cat ${p.adminKeyFile})" ${p.platformUrl}/v1/entities`,
    `  Kubernetes     kubectl --kubeconfig ${p.kubeconfig} get entities,apitokens,secrets -n acme`,
    `  Operator       ${p.metricsUrl}/metrics, ${p.metricsUrl}/readyz`,
    `  Pulumi stack   ${p.pulumiOutputs}`,
    '  Logs',
    ...logs,
  ];
}
