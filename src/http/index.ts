export { DEFAULT_HTTP_LIMITS, HttpError, MAX_MATCH_BODY_BYTES, createHttpServer, listen, parseTarget, type HttpDeps, type HttpLimits, type HttpRoutes } from './server.js';
