import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { BrandingProvider } from './branding';
import { SessionProvider } from './session';
import './styles.css';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <BrandingProvider>
        <SessionProvider>
          <App />
        </SessionProvider>
      </BrandingProvider>
    </StrictMode>,
  );
}
