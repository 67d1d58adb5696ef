// The generated client names `BodyInit`, a DOM global; a Node-only program (lib without DOM) has it
// only inside undici-types, which @types/node ships. This gives it the same meaning here.
type BodyInit = import('undici-types').BodyInit;
