import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';

/** An organization's look on the hosted pages. */
export interface Branding {
  organizationId: string;
  displayName: string | null;
  logoUrl: string | null;
  primaryColor: string | null;
}

const Ctx = createContext<Branding | undefined>(undefined);

/**
 * The hosted pages take `?org=<organization id>` (the OpenID Provider's interaction pages and
 * invitation links carry it). The colour is set through the CSSOM, which the CSP allows.
 */
export function BrandingProvider({ children }: { children: ReactNode }) {
  const [branding, setBranding] = useState<Branding>();
  useEffect(() => {
    const org = new URLSearchParams(location.search).get('org');
    if (!org || org.length > 64) return;
    fetch(`/v1/branding/${encodeURIComponent(org)}`, { credentials: 'omit' })
      .then((r) => (r.ok ? (r.json() as Promise<Branding>) : undefined))
      .then((b) => {
        if (!b) return;
        setBranding(b);
        if (b.primaryColor && /^#[0-9a-fA-F]{6}$/.test(b.primaryColor))
          document.documentElement.style.setProperty('--primary', b.primaryColor);
        if (b.displayName) document.title = b.displayName;
      })
      .catch(() => undefined);
  }, []);
  return <Ctx.Provider value={branding}>{children}</Ctx.Provider>;
}

export const useBranding = (): Branding | undefined => useContext(Ctx);
