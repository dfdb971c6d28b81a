export * from './analytics-catalogue.ts';
export * from './permissions.ts';
export * from './problems.ts';
export * from './rules.ts';
export * from './secret-format.ts';
export * from './tiers.ts';
