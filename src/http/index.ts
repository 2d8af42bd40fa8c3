export { MAX_MATCH_BODY_BYTES, createHttpServer, listen, type HttpDeps } from './server.js';
