import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api, type User } from './api/api';
import { ApiError, mayBeSignedIn, onSignedOut, refreshSession, signOut } from './api/client';

export type Restriction = 'password_change' | 'mfa_enroll';

export type SessionState =
  | { status: 'loading' }
  | { status: 'anonymous'; reason?: string }
  | { status: 'signed-in'; user: User; restriction?: Restriction };

interface SessionApi {
  state: SessionState;
  /** After a sign-in step answered a session (cookies set): load the user. */
  signedIn: (user: User | undefined, restriction?: Restriction) => Promise<void>;
  setUser: (user: User) => void;
  signOut: () => Promise<void>;
  reload: () => Promise<void>;
}

const Ctx = createContext<SessionApi | undefined>(undefined);
const RESTRICTION_KEY = 'portcullis.restriction';

export const isAdmin = (user: User): boolean => user.roles.some((r) => r === 'owner' || r === 'admin' || r === 'superadmin');

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const load = useCallback(async () => {
    if (!mayBeSignedIn()) {
      setState({ status: 'anonymous' });
      return;
    }
    try {
      const user = await api.me();
      const stored = sessionStorage.getItem(RESTRICTION_KEY) as Restriction | null;
      const restriction: Restriction | undefined = user.requireResetPassword ? 'password_change' : (stored ?? undefined);
      setState({ status: 'signed-in', user, ...(restriction ? { restriction } : {}) });
      // A reload does not know when the access token expires: a refresh now starts the timer.
      void refreshSession();
    } catch (err) {
      setState({ status: 'anonymous', ...(err instanceof ApiError && err.status >= 500 ? { reason: 'unavailable' } : {}) });
    }
  }, []);

  useEffect(() => {
    void load();
    return onSignedOut((reason) => {
      sessionStorage.removeItem(RESTRICTION_KEY);
      setState({ status: 'anonymous', reason });
    });
  }, [load]);

  const value = useMemo<SessionApi>(
    () => ({
      state,
      reload: load,
      signedIn: async (user, restriction) => {
        if (restriction) sessionStorage.setItem(RESTRICTION_KEY, restriction);
        else sessionStorage.removeItem(RESTRICTION_KEY);
        const current = user ?? (await api.me());
        setState({ status: 'signed-in', user: current, ...(restriction ? { restriction } : {}) });
      },
      setUser: (user) => setState((s) => (s.status === 'signed-in' ? { ...s, user } : s)),
      signOut: async () => {
        sessionStorage.removeItem(RESTRICTION_KEY);
        await signOut();
      },
    }),
    [state, load],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionApi {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

/** The signed-in user (pages under the signed-in layout only). */
export function useUser(): User {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('not signed in');
  return state.user;
}
