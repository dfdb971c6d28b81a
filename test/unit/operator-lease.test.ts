// Where the operator's Lease lives, and what a person is told when it cannot be
// taken. The same paths run against a real API server in test/operator/by-hand.test.ts.
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { leaseNamespace } from '../../operator/main.ts';
import { leaseProblem } from '../../operator/runtime/leader-election.ts';

function kubeconfig(namespace?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u', ...(namespace ? { namespace } : {}) }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('the Lease namespace', () => {
  it('is --namespace, else $POD_NAMESPACE, else the context namespace, else default (as kubectl)', () => {
    expect(leaseNamespace('flag', { POD_NAMESPACE: 'pod' }, kubeconfig('ctx'))).toBe('flag');
    expect(leaseNamespace(undefined, { POD_NAMESPACE: 'pod' }, kubeconfig('ctx'))).toBe('pod');
    expect(leaseNamespace(undefined, { POD_NAMESPACE: '' }, kubeconfig('ctx'))).toBe('ctx');
    expect(leaseNamespace(undefined, {}, kubeconfig())).toBe('default');
  });
});

describe('lease problems a person must fix', () => {
  const lease = { namespace: 'ops', name: 'tokenplane-operator' };
  const status = (code: number, message: string, kind?: string) =>
    new ApiException(
      code,
      'refused',
      JSON.stringify({ kind: 'Status', code, message, ...(kind ? { details: { kind } } : {}) }),
      {},
    );

  it('a missing namespace names kubectl create namespace and --namespace', () => {
    const text = leaseProblem(status(404, 'namespaces "ops" not found', 'namespaces'), lease);
    expect(text).toBe(
      'cannot take the leader-election Lease: namespace "ops" does not exist. Create it (kubectl create namespace ops) or choose the Lease namespace with --namespace.',
    );
  });

  it('RBAC quotes the API server and names the Role to grant', () => {
    const text = leaseProblem(
      status(
        403,
        'leases.coordination.k8s.io "tokenplane-operator" is forbidden: User "x" cannot get',
      ),
      lease,
    );
    expect(text).toContain('is forbidden: User "x" cannot get');
    expect(text).toContain('Role tokenplane-operator-leader-election');
  });

  it('rejected credentials name the kubeconfig; anything else is retried quietly', () => {
    expect(leaseProblem(new ApiException(401, 'Unauthorized', undefined, {}), lease)).toMatch(
      /kubeconfig/,
    );
    expect(leaseProblem(status(404, 'leases "x" not found', 'leases'), lease)).toBeUndefined();
    expect(leaseProblem(status(500, 'etcd timeout'), lease)).toBeUndefined();
    expect(leaseProblem(new Error('socket hang up'), lease)).toBeUndefined();
  });
});
