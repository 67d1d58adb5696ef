/**
 * Loads oidc-provider quietly. It prints two warnings that do not apply here: "Unsupported runtime"
 * on Node 20 (Portcullis's engine; the suite runs the provider on it), and, once per process, that a
 * request body was already read — Fastify reads provider bodies itself (bounded, so that the token
 * endpoint can be limited per client) and hands them over as `req.body`, which the provider accepts.
 * That one-time warning is spent here, on an empty body, while its console output is filtered.
 */
export async function loadOidcProvider(): Promise<typeof import('oidc-provider')> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING:')) return;
    warn.apply(console, args);
  };
  try {
    const provider = await import('oidc-provider');
    const body = await import('oidc-provider/lib/shared/selective_body.js');
    const ctx = { method: 'POST', is: () => true, req: { readable: false, body: Buffer.alloc(0) }, request: {}, oidc: {} };
    await body.urlencoded(ctx, async () => {});
    return provider;
  } finally {
    console.warn = warn;
  }
}
