/**
 * The platform's HTTP app: fastify with the JSON parser, problem handlers,
 * authentication, request metrics, the OpenAPI document and one plugin per
 * route group. The composition root (platform/main.ts) gives it the services
 * and adds the console.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { tracingWanted } from '../../core/tracing.ts';
import type { PlatformConfig } from '../config.ts';
import { installAudit } from './audit.ts';
import { installAuth } from './auth.ts';
import type { PlatformContext } from './context.ts';
import { httpOptions, requestId, requireHost } from './http-options.ts';
import { jsonBodyParser } from './json-body.ts';
import { RouteMethods } from './methods.ts';
import { registerOpenApi } from './openapi.ts';
import { clientErrorHandler, frameworkErrors, installProblemHandlers } from './problems.ts';
import { answeredIn, installRequestLog, RequestLog } from './request-log.ts';
import { accessKeyRoutes } from './routes/access-keys.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { auditRoutes } from './routes/audit.ts';
import { unknownPathIds } from './routes/common.ts';
import { entityRoutes } from './routes/entities.ts';
import { memberRoutes } from './routes/members.ts';
import { metaRoutes } from './routes/meta.ts';
import { tokenLeakRoutes } from './routes/token-leaks.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { installTracing } from './tracing.ts';

/** What the app carries (`app.tokenplane`); `context` serves white-box tests. */
export type PlatformInfo = {
  adminKey: string;
  dataDir: string;
  storage: 'sqlite' | 'postgres';
  context: PlatformContext;
};

declare module 'fastify' {
  interface FastifyInstance {
    tokenplane: PlatformInfo;
  }
}

/** The app with every API route, not yet ready: the caller may register more. */
export async function createApp(
  config: PlatformConfig,
  info: PlatformInfo,
): Promise<FastifyInstance> {
  const ctx = info.context;
  const app = Fastify({
    // request.ip: the socket's peer, or X-Forwarded-For's client when the peer is a listed proxy.
    ...(config.trustedProxies.length > 0 ? { trustProxy: config.trustedProxies } : {}),
    bodyLimit: config.bodyLimit,
    requestIdHeader: false,
    genReqId: requestId,
    ...httpOptions(config.options.requestTimeoutMs),
    return503OnClosing: true,
    frameworkErrors,
    clientErrorHandler,
    logController: new RequestLog(),
  }) as unknown as FastifyInstance;
  // fastify gets no logger (request-log.ts says why): `app.log` is the platform's all the same.
  app.log = config.logger;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('tokenplane', info);

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: config.bodyLimit },
    jsonBodyParser,
  );
  // A text/plain body was parsed as a string and refused by the schema as such: now 415.
  app.removeContentTypeParser('text/plain');

  let ready = true;
  app.addHook('preClose', async () => {
    ready = false;
  });
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  installRequestLog(app, config.logger);
  if (tracingWanted()) installTracing(app);
  installProblemHandlers(app, ctx, routes);
  requireHost(app);
  installAuth(app, ctx);
  // Counted when answered, not when the answer has left: an onResponse hook
  // would make fastify listen for every response's end (request-log.ts).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.problemSlug) ctx.metrics.problem(request.problemSlug);
    ctx.metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      answeredIn(request),
    );
    done(null, payload);
  });

  const optionalBodies = await registerOpenApi(app);
  await app.register(metaRoutes(ctx, { ready: () => ready, optionalBodies }));
  await app.register(managementRoutes(ctx), { prefix: '/v1' });
  await app.register(analyticsRoutes(ctx), { prefix: '/v1' });
  return app;
}

/**
 * The management routes. Body defaults and the audit hook live in their scope
 * only, so the analytics hot path pays for neither. The hooks take callbacks:
 * an async hook costs a promise on every request, introspection's included.
 */
function managementRoutes(ctx: PlatformContext) {
  return async (v1: FastifyInstance) => {
    // A body-less POST is validated as `{}`: reveal and rotate need none, and a
    // create without one gets field-level errors, not "expected object". Only a
    // missing body: an explicit JSON `null` is refused like any non-object; a
    // PATCH must say what to change.
    v1.addHook('preValidation', (request, _reply, done) => {
      if (request.body === undefined && request.method === 'POST') request.body = {};
      done();
    });
    v1.addHook('preHandler', unknownPathIds);
    installAudit(v1, ctx);
    // Management answers may carry token values and keys: never cache them.
    v1.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('cache-control', 'no-store');
      done(null, payload);
    });
    await v1.register(entityRoutes(ctx));
    await v1.register(tokenRoutes(ctx));
    await v1.register(accessKeyRoutes(ctx));
    await v1.register(memberRoutes(ctx));
    await v1.register(auditRoutes(ctx));
    await v1.register(webhookRoutes(ctx));
    await v1.register(tokenLeakRoutes(ctx));
  };
}
