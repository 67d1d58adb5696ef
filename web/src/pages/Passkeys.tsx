import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';
import { type FormEvent, useEffect, useState } from 'react';
import { api, type Passkey } from '../api/api';
import { Field, Notice, RelativeTime, useAction } from '../ui';

/** The signed-in user's passkeys: add (a discoverable credential), rename, remove. */
export function PasskeysSection() {
  const [passkeys, setPasskeys] = useState<Passkey[]>();
  const [name, setName] = useState('');
  const [editing, setEditing] = useState<{ id: string; name: string }>();
  const load = useAction();
  const add = useAction();
  const change = useAction();
  const refresh = () => load.run(async () => setPasskeys(await api.listPasskeys()));
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void refresh();
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void add.run(async () => {
      const options = await api.passkeyRegistrationOptions();
      let response: Awaited<ReturnType<typeof startRegistration>>;
      try {
        response = await startRegistration({ optionsJSON: options });
      } catch {
        throw new Error('The passkey was not created.');
      }
      await api.registerPasskey(name.trim(), response);
      setName('');
      await refresh();
    });
  };
  const rename = (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    void change.run(async () => {
      await api.renamePasskey(editing.id, editing.name.trim());
      setEditing(undefined);
      await refresh();
    });
  };
  if (!browserSupportsWebAuthn()) return <p>This browser does not support passkeys.</p>;
  return (
    <>
      <p>A passkey signs you in with your device's screen lock or a security key: no password, nothing to phish.</p>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      {change.error && <Notice kind="error">{change.error}</Notice>}
      {passkeys && passkeys.length > 0 && (
        <ul className="passkeys">
          {passkeys.map((p) => (
            <li key={p.id}>
              {editing?.id === p.id ? (
                <form onSubmit={rename} className="row" aria-label={`Rename ${p.name}`}>
                  <Field
                    label="Passkey name"
                    name="passkeyName"
                    value={editing.name}
                    onChange={(v) => setEditing({ id: p.id, name: v })}
                    maxLength={64}
                    required
                  />
                  <button type="submit" className="small">
                    Save
                  </button>
                  <button type="button" className="secondary small" onClick={() => setEditing(undefined)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <div className="row spread">
                  <span>
                    <strong>{p.name}</strong> {p.backedUp ? <span className="badge">synced</span> : null}{' '}
                    {p.cloneSuspected ? <span className="badge danger">blocked: possible copy</span> : null}
                    <br />
                    <small>
                      Added <RelativeTime value={p.createdAt} />, last used <RelativeTime value={p.lastUsedAt} />
                    </small>
                  </span>
                  <span className="row">
                    <button
                      type="button"
                      className="secondary small"
                      aria-label={`Rename ${p.name}`}
                      onClick={() => setEditing({ id: p.id, name: p.name })}
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      className="danger small"
                      aria-label={`Remove ${p.name}`}
                      onClick={() => {
                        if (confirm(`Remove the passkey “${p.name}”?`))
                          void change.run(async () => {
                            await api.removePasskey(p.id);
                            await refresh();
                          });
                      }}
                    >
                      Remove
                    </button>
                  </span>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {passkeys && passkeys.length === 0 && <p>No passkeys yet.</p>}
      <form onSubmit={submit} noValidate aria-label="Add a passkey" className="row">
        <Field
          label="Name for the new passkey"
          name="newPasskeyName"
          value={name}
          onChange={setName}
          maxLength={64}
          hint="e.g. “Work laptop”"
          error={add.error}
        />
        <button type="submit" disabled={add.busy}>
          Add a passkey
        </button>
      </form>
    </>
  );
}
