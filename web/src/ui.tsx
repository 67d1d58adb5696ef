import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { ApiError } from './api/client';

/** A labelled input with its error beside it (aria-describedby, aria-invalid). */
export function Field(props: {
  label: string;
  name: string;
  type?: string;
  value: string;
  onChange: (v: string) => void;
  error?: string | undefined;
  hint?: string;
  autoComplete?: string;
  required?: boolean;
  autoFocus?: boolean;
  inputMode?: 'numeric' | 'text' | 'email';
  maxLength?: number;
}) {
  const id = useId();
  const errId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [props.hint ? hintId : '', props.error ? errId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        autoComplete={props.autoComplete}
        required={props.required}
        // biome-ignore lint/a11y/noAutofocus: the first field of a single-purpose form
        autoFocus={props.autoFocus}
        inputMode={props.inputMode}
        maxLength={props.maxLength}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={described}
      />
      {props.hint && (
        <p className="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p className="field-error" id={errId} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

export function Checkbox(props: { label: string; name: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div className="check">
      <input id={id} name={props.name} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <label htmlFor={id}>{props.label}</label>
    </div>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'error' | 'success'; children: ReactNode }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

/** The message a person should read for an API error (the server's messages are generic already). */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) return 'Too many attempts. Wait a moment and try again.';
    if (err.error === 'password.policy_violation' && Array.isArray(err.details) && err.details.length > 0) {
      return `${err.message} ${err.details.filter((d) => typeof d === 'string' && !d.startsWith('body.')).join(' ')}`.trim();
    }
    return err.message;
  }
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong. Try again.';
}

/** Runs an async action with a busy flag and an error message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (err) {
      setError(messageOf(err));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 31_536_000],
  ['month', 2_592_000],
  ['week', 604_800],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "3 minutes ago" in the browser's time zone, the absolute time on hover (title) and for machines (datetime). */
export function RelativeTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  const date = new Date(value);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? ['second', 1];
  return (
    <time dateTime={date.toISOString()} title={absolute.format(date)}>
      {relative.format(Math.round(seconds / size), unit)}
    </time>
  );
}

/** Moves focus to a page's heading when it appears, so keyboard and screen-reader users land on it. */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // Not over a field that took focus itself (autofocus on a sign-in form).
    if (document.activeElement === document.body || document.activeElement === null) ref.current?.focus();
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

/** A secret shown once, with copy and download. */
export function SecretOnce({ label, value, fileName }: { label: string; value: string; fileName?: string }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!fileName) return;
    const u = URL.createObjectURL(new Blob([`${value}\n`], { type: 'text/plain' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [value, fileName]);
  return (
    <div className="secret">
      <p>
        <strong>{label}</strong> — shown only now. Store it somewhere safe.
      </p>
      <pre data-testid="secret-value">{value}</pre>
      <div className="row">
        <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(value)}>
          Copy
        </button>
        {url && fileName && (
          <a className="button secondary" href={url} download={fileName}>
            Download
          </a>
        )}
      </div>
    </div>
  );
}

/** A table that scrolls sideways on narrow screens inside its own box, reachable by keyboard. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be focusable to scroll by keyboard
    <section className="table-wrap" tabIndex={0} aria-label={label}>
      {children}
    </section>
  );
}
