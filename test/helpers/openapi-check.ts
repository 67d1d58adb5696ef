import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Checks answers against the served OpenAPI document: the operation (method + path template) must
 * document the status, the content type, and the body must match the documented schema (ajv over
 * the document itself, so `$ref`s resolve as a generated client would read them).
 * Answers that belong to no documented operation (an unknown path: 404; a known path asked with
 * another method: 405; HEAD) are not an operation's and are not checked.
 */

type Json = Record<string, any>;

export interface CheckedResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface ResponseValidator {
  /** `undefined` when the answer matches the document, else what differs. */
  check(method: string, url: string, res: CheckedResponse): string | undefined;
  /** The documented operation a request reaches, if any. */
  operation(method: string, url: string): { path: string; method: string; op: Json } | undefined;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const jsonPointerToken = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** A deep copy without `$id`s: every `$ref` then resolves against the document's root. */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) if (k !== '$id') out[k] = k === 'enum' || k === 'const' ? v : withoutIds(v);
  return out;
}

const isJson = (media: string) => /^application\/(?:[\w.-]+\+)?json$/.test(media);

export function createResponseValidator(document: Json): ResponseValidator {
  const doc = withoutIds(document) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: 'openapi.json' });
  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (pointer: string): ValidateFunction => {
    let v = compiled.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `openapi.json#${pointer}` });
      compiled.set(pointer, v);
    }
    return v;
  };

  const routes = Object.entries(doc.paths as Record<string, Json>)
    .map(([path, item]) => {
      const params = (path.match(/\{[^}]+\}/g) ?? []).length;
      const source = path
        .split(/(\{[^}]+\})/)
        .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { path, item, params, pattern: new RegExp(`^${source}/?$`) };
    })
    // Static segments win over parameters, as in the router.
    .sort((a, b) => a.params - b.params);

  const operation = (method: string, url: string) => {
    const path = (url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/');
    const m = method.toLowerCase();
    for (const r of routes) {
      if (r.pattern.test(path) && r.item[m]) return { path: r.path, method: m, op: r.item[m] as Json };
    }
    return undefined;
  };

  return {
    operation,
    check(method, url, res) {
      const found = operation(method, url);
      if (!found) return undefined;
      const where = `${method.toUpperCase()} ${found.path} (${found.op.operationId}) answered ${res.status}`;
      const responses = found.op.responses as Json;
      const key = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((k) => k in responses);
      if (!key)
        return `OpenAPI mismatch: ${where}, a status the document does not list (${Object.keys(responses).join(', ')}): ${res.text.slice(0, 300)}`;
      const response = responses[key] as Json;
      const content = response.content as Json | undefined;
      if (!content) {
        if (res.text !== '') return `OpenAPI mismatch: ${where} with a body the document says is empty: ${res.text.slice(0, 300)}`;
        return undefined;
      }
      if (method.toUpperCase() === 'HEAD') return undefined;
      const media = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!(media in content)) {
        return `OpenAPI mismatch: ${where} as ${media || 'no content type'}, documented: ${Object.keys(content).join(', ')}`;
      }
      let body: unknown = res.text;
      if (isJson(media)) {
        try {
          body = JSON.parse(res.text);
        } catch {
          return `OpenAPI mismatch: ${where} as ${media} with a body that is not JSON: ${res.text.slice(0, 300)}`;
        }
      }
      const pointer = `/paths/${jsonPointerToken(found.path)}/${found.method}/responses/${key}/content/${jsonPointerToken(media)}/schema`;
      const validate = validatorFor(pointer);
      if (!validate(body)) {
        const problems = (validate.errors ?? [])
          .slice(0, 8)
          .map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`)
          .join('; ');
        return `OpenAPI mismatch: ${where}, body does not match #${pointer}: ${problems}\nbody: ${res.text.slice(0, 500)}`;
      }
      return undefined;
    },
  };
}

let cached: { key: string; validator: ResponseValidator } | undefined;

/** One validator per distinct document (the servers aside): compiling is the slow part. */
export function responseValidatorFor(document: Json): ResponseValidator {
  const { servers: _servers, ...rest } = document;
  const key = JSON.stringify(rest);
  if (cached?.key !== key) cached = { key, validator: createResponseValidator(document) };
  return cached.validator;
}
