/**
 * `tokenplane/kubernetes`: Pulumi components that put tokens into Kubernetes
 * objects. A separate entry point, so that `tokenplane` itself never loads
 * `@pulumi/kubernetes` (an optional peer dependency, needed only here).
 */
export { TokenSecret, type TokenSecretArgs } from './token-secret.ts';
