/**
 * Watches the built-in objects a prototype-pollution payload reaches (`Object.prototype` through
 * `__proto__` or `constructor.prototype`, `Object` itself through `constructor`, `Function` through
 * `constructor.constructor`). The app runs in the test's process, so what a request pollutes shows here.
 */

const WATCHED: ReadonlyArray<readonly [string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Object', Object],
  ['Function.prototype', Function.prototype],
  ['Function', Function],
  ['Array.prototype', Array.prototype],
  ['String.prototype', String.prototype],
];

type Snapshot = Map<object, Map<PropertyKey, PropertyDescriptor>>;

function take(): Snapshot {
  const snap: Snapshot = new Map();
  for (const [, target] of WATCHED) {
    const props = new Map<PropertyKey, PropertyDescriptor>();
    for (const key of Reflect.ownKeys(target)) props.set(key, Reflect.getOwnPropertyDescriptor(target, key) as PropertyDescriptor);
    snap.set(target, props);
  }
  return snap;
}

const same = (a: PropertyDescriptor, b: PropertyDescriptor | undefined): boolean =>
  !!b && a.value === b.value && a.get === b.get && a.set === b.set && a.writable === b.writable;

/**
 * A baseline of the watched built-ins. `check()` lists what was added, removed or changed since,
 * and puts the baseline back so that one polluting request cannot break the tests after it.
 */
export function pollutionWatch() {
  const baseline = take();
  return {
    check(): string[] {
      const found: string[] = [];
      for (const [name, target] of WATCHED) {
        const before = baseline.get(target) as Map<PropertyKey, PropertyDescriptor>;
        for (const key of Reflect.ownKeys(target)) {
          const now = Reflect.getOwnPropertyDescriptor(target, key) as PropertyDescriptor;
          const was = before.get(key);
          if (same(now, was)) continue;
          found.push(`${name}.${String(key)} ${was ? 'changed' : 'added'}`);
          if (was) Reflect.defineProperty(target, key, was);
          else Reflect.deleteProperty(target, key);
        }
        for (const [key, was] of before) {
          if (Object.hasOwn(target, key)) continue;
          found.push(`${name}.${String(key)} removed`);
          Reflect.defineProperty(target, key, was);
        }
      }
      return found;
    },
  };
}
