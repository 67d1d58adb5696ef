// oidc-provider ships no type declarations; Portcullis (src/oidc) and the federation tests use a part of it.
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
  export const errors: Record<string, any>;
  export const interactionPolicy: any;
}

// The body reader, used once by src/oidc/load.ts.
declare module 'oidc-provider/lib/shared/selective_body.js' {
  export function urlencoded(ctx: unknown, next: () => Promise<void>): Promise<void>;
}
