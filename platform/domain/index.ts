export * from './metrics.ts';
export * from './permissions.ts';
export * from './problems.ts';
export * from './rules.ts';
export * from './secret-format.ts';
export * from './tiers.ts';
