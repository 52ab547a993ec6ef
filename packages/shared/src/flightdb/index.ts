// Flight DB (schema v1 + migrations): open/migrate (open.ts), schema (schema.ts), row types
// (rows.ts), typed SQL helpers shared by the agent and the CLI (queries.ts), boot ids of
// monotonic times (boot.ts).
export * from './errors.js';
export * from './schema.js';
export * from './open.js';
export * from './rows.js';
export * from './queries.js';
export * from './boot.js';
