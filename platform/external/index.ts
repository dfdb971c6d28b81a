export * from './changes.ts';
export * from './entity.ts';
export * from './external.ts';
export * from './failures.ts';
export * from './plan-quota.ts';
export * from './renewal.ts';
export * from './rotation.ts';
export * from './token.ts';
