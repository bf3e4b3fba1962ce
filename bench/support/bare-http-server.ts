/**
 * The floor of an HTTP accept on this machine: a plain `node:http` server that reads each
 * request's body and answers `202 {}`, with nothing behind it. The ingest bench posts the
 * same bodies to it as to the service, so the accept rate can be read against what HTTP
 * alone allows. Port from PORT; `GET /health/ready` answers 200 so the bench's readiness
 * wait works unchanged.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const ready = req.method === 'GET';
    res.writeHead(ready ? 200 : 202, { 'content-type': 'application/json' });
    res.end(ready ? '{"status":"ok"}' : '{}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
