/** The ceiling of any route on this machine: Fastify answering a constant object, nothing else. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const body = { success: true, code: 0, message: 'OK' };
app.get('/bare', async () => body);
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
