/** Roles (README "Platform API"): `admin` reads and writes, `viewer` only reads. */
import type { Role } from '../schemas/access-key.ts';

/** Does a holder of `held` have at least `wanted`? */
export function roleCovers(held: Role, wanted: Role): boolean {
  return held === 'admin' || wanted === 'viewer';
}
