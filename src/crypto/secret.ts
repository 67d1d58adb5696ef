import { inspect } from 'node:util';

/**
 * Holds a secret value so that it cannot leak through `JSON.stringify`, `console.log`
 * or `util.inspect`. Only `crypto/` and `vault/` call `unwrap()`.
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  unwrap(): T {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
