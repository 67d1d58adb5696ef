// oidc-provider ships no type declarations; Portcullis (src/oidc) and the federation tests use a part of it.
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
  export const errors: Record<string, any>;
  export const interactionPolicy: any;
}
