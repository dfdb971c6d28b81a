export * from './access-key.ts';
export * from './analytics.ts';
export * from './audit.ts';
export * from './common.ts';
export * from './entity.ts';
export * from './problem.ts';
export * from './tier.ts';
export * from './token.ts';
