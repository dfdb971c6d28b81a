// Smoke tests proving the kube project runs on a real API server: structural
// schema + CEL validation, RBAC, watches and the status subresource.
import {
  type ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceAccountKubeconfig } from '../harness/control-plane.ts';
import { adminKubeConfig, createTestNamespace, sharedControlPlane } from '../harness/kube.ts';
import { waitFor } from '../harness/wait.ts';

const group = 'smoke.tokenplane.test';
const version = 'v1';
const plural = 'widgets';
const crdName = `${plural}.${group}`;

const kc = adminKubeConfig();
const custom = kc.makeApiClient(CustomObjectsApi);
let namespace = '';

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; generation?: number; resourceVersion?: string };
  spec: { size: number; min: number; max: number };
  status?: { phase?: string };
}

function widget(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: `${group}/${version}`, kind: 'Widget', metadata: { name }, spec };
}

async function rejection(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as ApiException<string>;
    const body =
      typeof e.body === 'string'
        ? (JSON.parse(e.body) as { message?: string })
        : (e.body as { message?: string });
    return { code: e.code, message: body?.message ?? String(e.message) };
  }
  throw new Error('expected the API server to reject the request');
}

beforeAll(async () => {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await ext.createCustomResourceDefinition({
    body: {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: version,
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['size', 'min', 'max'],
                    properties: {
                      size: { type: 'integer', minimum: 1, maximum: 10 },
                      min: { type: 'integer' },
                      max: { type: 'integer' },
                    },
                    x_kubernetes_validations: [
                      { rule: 'self.min <= self.max', message: 'min must not exceed max' },
                    ],
                  },
                  status: { type: 'object', properties: { phase: { type: 'string' } } },
                },
              },
            },
          },
        ],
      },
    },
  });
  await waitFor(`CRD ${crdName} established`, async () => {
    const crd = await ext.readCustomResourceDefinition({ name: crdName });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
  namespace = await createTestNamespace('smoke');
  // The CRD's REST handler can lag its Established condition by a moment.
  await waitFor('the CRD served', () =>
    custom.listNamespacedCustomObject({ group, version, namespace, plural }),
  );
});

describe('kube-apiserver (real)', () => {
  const create = (name: string, spec: Widget['spec']) =>
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: widget(name, spec),
    });

  it('accepts a CRD with a structural schema and a CEL rule, and a valid object', async () => {
    const created = (await create('ok', { size: 3, min: 1, max: 2 })) as Widget;
    expect(created.metadata.generation).toBe(1);
    expect(created.spec).toEqual({ size: 3, min: 1, max: 2 });
  });

  it('rejects an object that violates the schema, with the schema message', async () => {
    const res = await rejection(create('too-big', { size: 11, min: 1, max: 2 }));
    expect(res.code).toBe(422);
    expect(res.message).toContain('spec.size');
    expect(res.message).toContain('should be less than or equal to 10');
  });

  it('rejects an object that violates the CEL rule, with the rule message', async () => {
    // Note: client-node serializes CRD schemas by its model's field names (x_kubernetes_validations);
    // a raw 'x-kubernetes-validations' key would be silently dropped.
    const res = await rejection(create('inverted', { size: 1, min: 5, max: 2 }));
    expect(res.code).toBe(422);
    expect(res.message).toContain('min must not exceed max');
  });

  it('answers 403 to a ServiceAccount without permission, and serves it once a Role is bound', async () => {
    const sa = await serviceAccountKubeconfig(sharedControlPlane(), { namespace, name: 'reader' });
    const asSa = sa.kubeConfig.makeApiClient(CoreV1Api);
    const denied = await rejection(asSa.listNamespacedConfigMap({ namespace }));
    expect(denied.code).toBe(403);
    expect(denied.message).toContain(sa.username);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });
    const list = await waitFor('the Role in force', () =>
      asSa.listNamespacedConfigMap({ namespace }),
    );
    expect(Array.isArray(list.items)).toBe(true);
    // Still nothing outside what the Role grants.
    expect((await rejection(asSa.listNamespacedSecret({ namespace }))).code).toBe(403);
  });

  it('delivers ADDED, MODIFIED and DELETED events on a watch', async () => {
    const events: string[] = [];
    let notify: () => void = () => {};
    const watch = new Watch(kc);
    const controller = await watch.watch(
      `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
      { fieldSelector: 'metadata.name=watched' },
      (phase, obj: Widget) => {
        events.push(`${phase}:${obj.spec?.size}`);
        notify();
      },
      () => {},
    );
    const until = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`events so far: ${events.join(', ')}`)),
          20_000,
        );
        notify = () => {
          if (events.length >= n) {
            clearTimeout(timer);
            resolve();
          }
        };
        notify();
      });
    try {
      await custom.createNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        body: widget('watched', { size: 1, min: 0, max: 0 }),
      });
      await until(1);
      await custom.patchNamespacedCustomObject(
        { group, version, namespace, plural, name: 'watched', body: { spec: { size: 2 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await until(2);
      await custom.deleteNamespacedCustomObject({
        group,
        version,
        namespace,
        plural,
        name: 'watched',
      });
      await until(3);
    } finally {
      controller.abort();
    }
    expect(events).toEqual(['ADDED:1', 'MODIFIED:2', 'DELETED:2']);
  });

  it('does not bump generation on a status subresource update, but does on a spec change', async () => {
    const created = (await custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: widget('status', { size: 1, min: 0, max: 1 }),
    })) as Widget;
    expect(created.metadata.generation).toBe(1);

    const afterStatus = (await custom.patchNamespacedCustomObjectStatus(
      { group, version, namespace, plural, name: 'status', body: { status: { phase: 'Ready' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Widget;
    expect(afterStatus.status?.phase).toBe('Ready');
    expect(afterStatus.metadata.generation).toBe(1);
    expect(afterStatus.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);

    // Status sent through the main resource is ignored once the subresource is enabled.
    const afterSpec = (await custom.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace,
        plural,
        name: 'status',
        body: { spec: { size: 2 }, status: { phase: 'Ignored' } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as Widget;
    expect(afterSpec.metadata.generation).toBe(2);
    expect(afterSpec.status?.phase).toBe('Ready');
  });
});
