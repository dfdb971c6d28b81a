import { describe, expect, it } from 'vitest';
import { parseGoMod, siblingVersion } from './gomod.ts';

const kubernetesLike = `module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
	github.com/spf13/cobra v1.10.2
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0 // indirect
)

require k8s.io/kms v0.0.0

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/sample-controller => ./staging/src/k8s.io/sample-controller
)

replace k8s.io/kms => ./staging/src/k8s.io/kms
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
`;

describe('parseGoMod', () => {
  it('collects go, godebug, requires, local and module replaces', () => {
    const mod = parseGoMod(kubernetesLike);
    expect(mod.go).toBe('1.26.0');
    expect(mod.godebug).toEqual(['default=go1.26']);
    expect(mod.requires.get('k8s.io/client-go')).toBe('v0.0.0');
    expect(mod.requires.get('k8s.io/kms')).toBe('v0.0.0');
    expect(mod.localReplaces).toEqual([
      'k8s.io/api',
      'k8s.io/client-go',
      'k8s.io/sample-controller',
      'k8s.io/kms',
    ]);
    expect(mod.moduleReplaces).toEqual([
      'github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e',
    ]);
  });
});

describe('siblingVersion', () => {
  it('maps Kubernetes v1.N.M to its staging modules v0.N.M', () => {
    expect(siblingVersion({ module: 'k8s.io/kubernetes', version: 'v1.36.3', package: '' })).toBe(
      'v0.36.3',
    );
  });
  it('keeps the version for etcd and Pulumi', () => {
    expect(
      siblingVersion({ module: 'go.etcd.io/etcd/server/v3', version: 'v3.6.16', package: '' }),
    ).toBe('v3.6.16');
    expect(
      siblingVersion({
        module: 'github.com/pulumi/pulumi/pkg/v3',
        version: 'v3.259.0',
        package: '',
      }),
    ).toBe('v3.259.0');
  });
});
