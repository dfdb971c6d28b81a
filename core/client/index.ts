/**
 * Typed client of the tokenplane platform API (README "Platform API") — the only way the
 * operator and the provider reach the platform. Every answer is validated with the
 * zod schemas of core/schemas; failures are the error classes of ./errors.ts.
 *
 * Retries: every method here is safe to repeat. Reads, DELETE and PATCH (whose
 * bodies are absolute assignments) are idempotent; reveal and introspect only
 * read; creates and rotate carry an Idempotency-Key (a random one when the caller
 * gives none), so a retried create returns the first answer instead of issuing twice.
 */
import { inspect } from 'node:util';
import type { z } from 'zod';
import {
  AccessKeyList,
  AccessKeyWithKey,
  type CreateAccessKeyRequest,
  type AccessKey as TAccessKey,
  type AccessKeyWithKey as TAccessKeyWithKey,
} from '../schemas/access-key.ts';
import {
  MetricCatalog,
  MetricSeries,
  type MetricCatalog as TMetricCatalog,
  type MetricSeries as TMetricSeries,
} from '../schemas/analytics.ts';
import { AuditPage, type AuditPage as TAuditPage } from '../schemas/audit.ts';
import {
  type CreateEntityRequest,
  CreateEntityResponse,
  Entity,
  EntityPage,
  type CreateEntityResponse as TCreateEntityResponse,
  type Entity as TEntity,
  type EntityPage as TEntityPage,
  type UpdateEntityRequest,
} from '../schemas/entity.ts';
import {
  type CreateMemberRequest,
  Member,
  MemberPage,
  type Member as TMember,
  type MemberPage as TMemberPage,
} from '../schemas/member.ts';
import { type TierInfo, TierList } from '../schemas/tier.ts';
import {
  type CreateTokenRequest,
  IntrospectResponse,
  RevealResponse,
  type RotateTokenRequest,
  type IntrospectResponse as TIntrospectResponse,
  Token,
  TokenPage,
  TokenWithValue,
  type Token as TToken,
  type TokenPage as TTokenPage,
  type TokenWithValue as TTokenWithValue,
  type UpdateTokenRequest,
} from '../schemas/token.ts';
import { TokenplaneResponseError } from './errors.ts';
import {
  type Call,
  newIdempotencyKey,
  type Reply,
  Transport,
  type TransportOptions,
} from './transport.ts';

export { type SignableRequest, type SignOptions, signRequest } from '../crypto/http-signatures.ts';
export * from './errors.ts';
export type { TransportOptions as TokenplaneClientOptions } from './transport.ts';

const PAGE_SIZE = 500;

export class TokenplaneClient {
  readonly #t: Transport;

  constructor(opts: TransportOptions) {
    this.#t = new Transport(opts);
  }

  /** The endpoint this client talks to (no credential). */
  get endpoint(): string {
    return this.#t.origin + this.#t.basePath;
  }

  async listTiers(): Promise<TierInfo[]> {
    return (await this.#get('/v1/tiers', TierList)).items;
  }

  // --- entities -------------------------------------------------------------

  createEntity(
    req: CreateEntityRequest,
    opts?: { idempotencyKey?: string },
  ): Promise<TCreateEntityResponse> {
    return this.#create('/v1/entities', req, CreateEntityResponse, opts?.idempotencyKey);
  }

  getEntity(id: string): Promise<TEntity> {
    return this.#get(`/v1/entities/${seg(id)}`, Entity);
  }

  async getEntityWithETag(id: string): Promise<{ entity: TEntity; etag: string }> {
    const { data, etag } = await this.#getWithETag(`/v1/entities/${seg(id)}`, Entity);
    return { entity: data, etag };
  }

  /** One page of entities; `search` keeps those whose name contains it (case-insensitive). */
  listEntities(q?: {
    parentId?: string;
    search?: string;
    limit?: number;
    cursor?: string;
  }): Promise<TEntityPage> {
    return this.#get('/v1/entities', EntityPage, q);
  }

  /** Every entity (of `parentId`, when given), following `nextCursor`. */
  listAllEntities(q?: { parentId?: string }): Promise<TEntity[]> {
    return this.#all((cursor) => this.listEntities({ ...q, limit: PAGE_SIZE, cursor }));
  }

  updateEntity(
    id: string,
    patch: UpdateEntityRequest,
    opts?: { ifMatch?: string },
  ): Promise<TEntity> {
    return this.#patch(`/v1/entities/${seg(id)}`, patch, Entity, opts?.ifMatch);
  }

  async deleteEntity(id: string): Promise<void> {
    await this.#t.send({ method: 'DELETE', path: `/v1/entities/${seg(id)}` });
  }

  // --- tokens ---------------------------------------------------------------

  createToken(
    entityId: string,
    req: CreateTokenRequest,
    opts?: { idempotencyKey?: string },
  ): Promise<TTokenWithValue> {
    return this.#create(
      `/v1/entities/${seg(entityId)}/tokens`,
      req,
      TokenWithValue,
      opts?.idempotencyKey,
    );
  }

  getToken(id: string): Promise<TToken> {
    return this.#get(`/v1/tokens/${seg(id)}`, Token);
  }

  async getTokenWithETag(id: string): Promise<{ token: TToken; etag: string }> {
    const { data, etag } = await this.#getWithETag(`/v1/tokens/${seg(id)}`, Token);
    return { token: data, etag };
  }

  listTokens(entityId: string, q?: { limit?: number; cursor?: string }): Promise<TTokenPage> {
    return this.#get(`/v1/entities/${seg(entityId)}/tokens`, TokenPage, q);
  }

  listAllTokens(entityId: string): Promise<TToken[]> {
    return this.#all((cursor) => this.listTokens(entityId, { limit: PAGE_SIZE, cursor }));
  }

  updateToken(id: string, patch: UpdateTokenRequest, opts?: { ifMatch?: string }): Promise<TToken> {
    return this.#patch(`/v1/tokens/${seg(id)}`, patch, Token, opts?.ifMatch);
  }

  async deleteToken(id: string): Promise<void> {
    await this.#t.send({ method: 'DELETE', path: `/v1/tokens/${seg(id)}` });
  }

  /** The token's value. Read-only on the server, so repeating it is safe. */
  async revealToken(id: string): Promise<string> {
    const { data } = await this.#t.send({
      method: 'POST',
      path: `/v1/tokens/${seg(id)}/reveal`,
      body: {},
      schema: RevealResponse,
      idempotent: true,
    });
    return data.value;
  }

  /** A new value under the same id; the old one verifies for `gracePeriodSeconds` (default 0). */
  rotateToken(
    id: string,
    req: RotateTokenRequest = {},
    opts?: { idempotencyKey?: string },
  ): Promise<TTokenWithValue> {
    return this.#create(`/v1/tokens/${seg(id)}/rotate`, req, TokenWithValue, opts?.idempotencyKey);
  }

  /** Whether a token value verifies now (admin or access key). Read-only, so retried. */
  async introspect(token: string): Promise<TIntrospectResponse> {
    const { data } = await this.#t.send({
      method: 'POST',
      path: '/v1/introspect',
      body: { token },
      schema: IntrospectResponse,
      idempotent: true,
    });
    return data;
  }

  // --- access keys ----------------------------------------------------------

  createAccessKey(
    entityId: string,
    req: CreateAccessKeyRequest,
    opts?: { idempotencyKey?: string },
  ): Promise<TAccessKeyWithKey> {
    return this.#create(
      `/v1/entities/${seg(entityId)}/access-keys`,
      req,
      AccessKeyWithKey,
      opts?.idempotencyKey,
    );
  }

  async listAccessKeys(entityId: string): Promise<TAccessKey[]> {
    return (await this.#get(`/v1/entities/${seg(entityId)}/access-keys`, AccessKeyList)).items;
  }

  async deleteAccessKey(id: string): Promise<void> {
    await this.#t.send({ method: 'DELETE', path: `/v1/access-keys/${seg(id)}` });
  }

  // --- members ---------------------------------------------------------------

  createMember(
    entityId: string,
    req: CreateMemberRequest,
    opts?: { idempotencyKey?: string },
  ): Promise<TMember> {
    return this.#create(`/v1/entities/${seg(entityId)}/members`, req, Member, opts?.idempotencyKey);
  }

  listMembers(entityId: string, q?: { limit?: number; cursor?: string }): Promise<TMemberPage> {
    return this.#get(`/v1/entities/${seg(entityId)}/members`, MemberPage, q);
  }

  listAllMembers(entityId: string): Promise<TMember[]> {
    return this.#all((cursor) => this.listMembers(entityId, { limit: PAGE_SIZE, cursor }));
  }

  updateMember(id: string, patch: { role: TMember['role'] }): Promise<TMember> {
    return this.#patch(`/v1/members/${seg(id)}`, patch, Member);
  }

  async deleteMember(id: string): Promise<void> {
    await this.#t.send({ method: 'DELETE', path: `/v1/members/${seg(id)}` });
  }

  /** A member's personal access key: at most its role; it ends with the membership. */
  createPersonalAccessKey(
    memberId: string,
    req: CreateAccessKeyRequest,
    opts?: { idempotencyKey?: string },
  ): Promise<TAccessKeyWithKey> {
    return this.#create(
      `/v1/members/${seg(memberId)}/access-keys`,
      req,
      AccessKeyWithKey,
      opts?.idempotencyKey,
    );
  }

  async listPersonalAccessKeys(memberId: string): Promise<TAccessKey[]> {
    return (await this.#get(`/v1/members/${seg(memberId)}/access-keys`, AccessKeyList)).items;
  }

  // --- audit and analytics ---------------------------------------------------

  listAuditEvents(q?: { entityId?: string; limit?: number; cursor?: string }): Promise<TAuditPage> {
    return this.#get('/v1/audit-events', AuditPage, q);
  }

  /**
   * The metric catalogue of the calling API token's tier and scopes (construct the
   * client with the token as apiKey, and `signingTokenId` for a token that signs).
   */
  listMetrics(): Promise<TMetricCatalog> {
    return this.#get('/v1/analytics/metrics', MetricCatalog);
  }

  getMetric(name: string, q?: { from?: string; to?: string }): Promise<TMetricSeries> {
    return this.#get(`/v1/analytics/metrics/${seg(name)}`, MetricSeries, q);
  }

  /** Closes the connection pool (not a dispatcher passed in by the caller). */
  close(): Promise<void> {
    return this.#t.close();
  }

  /** `await using client = new TokenplaneClient(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  toString(): string {
    return `TokenplaneClient(${this.endpoint})`;
  }

  toJSON(): object {
    return { endpoint: this.endpoint };
  }

  [inspect.custom](): string {
    return this.toString();
  }

  // --- helpers --------------------------------------------------------------

  async #get<T>(path: string, schema: z.ZodType<T>, query?: Call<T>['query']): Promise<T> {
    return (await this.#t.send({ method: 'GET', path, query, schema })).data;
  }

  async #getWithETag<T>(path: string, schema: z.ZodType<T>): Promise<{ data: T; etag: string }> {
    const reply: Reply<T> = await this.#t.send({ method: 'GET', path, schema });
    const etag = reply.headers.etag;
    if (typeof etag !== 'string' || etag === '') {
      throw new TokenplaneResponseError({
        status: reply.status,
        method: 'GET',
        path,
        issues: ['ETag header missing'],
      });
    }
    return { data: reply.data, etag };
  }

  async #patch<T>(path: string, body: object, schema: z.ZodType<T>, ifMatch?: string): Promise<T> {
    const headers = { 'if-match': ifMatch };
    return (await this.#t.send({ method: 'PATCH', path, body, schema, headers })).data;
  }

  async #create<T>(
    path: string,
    body: object,
    schema: z.ZodType<T>,
    idempotencyKey: string | undefined,
  ): Promise<T> {
    // One key for every attempt of this call: that is what makes a retry safe.
    const headers = { 'idempotency-key': idempotencyKey || newIdempotencyKey() };
    return (await this.#t.send({ method: 'POST', path, body, schema, headers })).data;
  }

  async #all<T>(
    page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  ): Promise<T[]> {
    const all: T[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const p = await page(cursor);
      all.push(...p.items);
      cursor = p.nextCursor ?? undefined;
      if (cursor !== undefined) {
        if (seen.has(cursor)) throw new Error(`pagination cursor repeated: ${cursor}`);
        seen.add(cursor);
      }
    } while (cursor !== undefined);
    return all;
  }
}

/** A path segment: ids are UUIDs, but never let a value change the route. */
function seg(value: string): string {
  return encodeURIComponent(value);
}

export type { TierInfo } from '../schemas/tier.ts';
export type {
  CreateAccessKeyRequest,
  CreateEntityRequest,
  CreateMemberRequest,
  CreateTokenRequest,
  RotateTokenRequest,
  TAccessKey as AccessKey,
  TAccessKeyWithKey as AccessKeyWithKey,
  TAuditPage as AuditPage,
  TCreateEntityResponse as CreateEntityResponse,
  TEntity as Entity,
  TEntityPage as EntityPage,
  TIntrospectResponse as IntrospectResponse,
  TMember as Member,
  TMemberPage as MemberPage,
  TMetricCatalog as MetricCatalog,
  TMetricSeries as MetricSeries,
  TToken as Token,
  TTokenPage as TokenPage,
  TTokenWithValue as TokenWithValue,
  UpdateEntityRequest,
  UpdateTokenRequest,
};
