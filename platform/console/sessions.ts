/**
 * Console sessions, kept in server memory: the browser holds only a random
 * session id in an HttpOnly cookie; the credential it signed in with stays here.
 * A session ends on sign-out, after `idleMs` without a request, `absoluteMs` after
 * sign-in, or when its credential stops authenticating (checked on each request).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../server/context.ts';

/** A message for the next page the session sees (post/redirect/get). */
export type Flash =
  | { kind: 'alert' | 'status'; text: string }
  /** A token value to show once, in a dialog, on the next page. */
  | { kind: 'value'; title: string; value: string };

export type Session = {
  readonly credential: string;
  /** Read again on each request: a member's role can change while it is signed in. */
  principal: Principal;
  /** How the page header names the credential, e.g. `an access key (viewer) of "Acme"`. */
  readonly label: string;
  /** Synchronizer token: state-changing requests must echo it. */
  readonly csrf: string;
  /** The provider's ID token of a single sign-on, for ending the session there too. */
  readonly idToken: string | undefined;
  readonly createdAt: number;
  lastSeenAt: number;
  flash: Flash[];
};

export type SessionLimits = {
  /** Ends a session this long after its last request. Default 30 min. */
  idleMs?: number;
  /** Ends a session this long after sign-in, however busy. Default 12 h. */
  absoluteMs?: number;
  /** Sessions kept at most; the least recently used goes first. Default 10 000. */
  maxSessions?: number;
};

export const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_ABSOLUTE_MS = 12 * 3600_000;

/** The map key of a session id: a digest, so the map never holds the cookie value itself. */
function keyOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #clock: () => number;
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly #max: number;

  constructor(clock: () => number, limits: SessionLimits = {}) {
    this.#clock = clock;
    this.idleMs = limits.idleMs ?? DEFAULT_IDLE_MS;
    this.absoluteMs = limits.absoluteMs ?? DEFAULT_ABSOLUTE_MS;
    this.#max = limits.maxSessions ?? 10_000;
  }

  /** Starts a session; returns the id for the cookie (256 random bits). */
  create(
    credential: string,
    principal: Principal,
    label: string,
    idToken?: string,
  ): { id: string; session: Session } {
    this.#sweep();
    const id = randomBytes(32).toString('base64url');
    const now = this.#clock();
    const session: Session = {
      credential,
      principal,
      label,
      csrf: randomBytes(32).toString('base64url'),
      idToken,
      createdAt: now,
      lastSeenAt: now,
      flash: [],
    };
    this.#sessions.set(keyOf(id), session);
    return { id, session };
  }

  /** The live session of a cookie value (and marks it used), or null. */
  touch(id: string | undefined): Session | null {
    if (!id) return null;
    const key = keyOf(id);
    const session = this.#sessions.get(key);
    if (!session) return null;
    const now = this.#clock();
    if (this.#expired(session, now)) {
      this.#sessions.delete(key);
      return null;
    }
    session.lastSeenAt = now;
    // Map order doubles as least-recently-used order for eviction.
    this.#sessions.delete(key);
    this.#sessions.set(key, session);
    return session;
  }

  end(id: string | undefined): void {
    if (id) this.#sessions.delete(keyOf(id));
  }

  /** Ends every session signed in with this credential (e.g. once it stopped authenticating). */
  endAllOf(credential: string): void {
    for (const [key, session] of this.#sessions) {
      if (session.credential === credential) this.#sessions.delete(key);
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  #expired(session: Session, now: number): boolean {
    return now - session.lastSeenAt >= this.idleMs || now - session.createdAt >= this.absoluteMs;
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [key, session] of this.#sessions) {
      if (this.#expired(session, now)) this.#sessions.delete(key);
    }
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted === '') return false;
  const a = createHash('sha256').update(submitted).digest();
  const b = createHash('sha256').update(session.csrf).digest();
  return timingSafeEqual(a, b);
}
