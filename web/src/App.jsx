import React, { useEffect, useState, useCallback } from 'react';
import Home from './Home.jsx';
import Analysis from './Analysis.jsx';
import { getToken, setToken } from './api.js';

// Minimal history router: "/" and "/analysis/<uid>".
function useRoute() {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((to) => {
    if (to !== window.location.pathname) window.history.pushState(null, '', to);
    setPath(to);
    window.scrollTo(0, 0);
  }, []);
  return [path, navigate];
}

function TokenButton() {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(getToken());
  if (!open) {
    return (
      <button className="ghost small" onClick={() => setOpen(true)} title="API token (only when [web] api_token is set)">
        {getToken() ? 'Token set' : 'API token'}
      </button>
    );
  }
  return (
    <form className="token-form" onSubmit={(e) => { e.preventDefault(); setToken(value.trim()); setOpen(false); window.location.reload(); }}>
      <input autoFocus type="password" placeholder="bearer token" value={value} onChange={(e) => setValue(e.target.value)} />
      <button className="small" type="submit">Save</button>
    </form>
  );
}

export default function App() {
  const [path, navigate] = useRoute();
  const m = path.match(/^\/analysis\/([^/]+)\/?$/);
  useEffect(() => {
    const onKey = (e) => {
      if (e.target.matches('input, textarea, select')) return;
      if (e.key === 'g' && !e.ctrlKey && !e.metaKey) navigate('/');
      if (e.key === '?') alert('Keys: g home · / filter · j/k move · Enter open · 1-5 tabs · n/p log pages · Esc close');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>
          <span className="logo">◆</span> DRAKVUF <span className="brand-sub">Sandbox</span>
        </a>
        <nav>
          <a href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }} className={m ? '' : 'active'}>Analyses</a>
          <span className="hint">press <kbd>?</kbd> for keys</span>
          <TokenButton />
        </nav>
      </header>
      <main>
        {m ? <Analysis uid={decodeURIComponent(m[1])} navigate={navigate} /> : <Home navigate={navigate} />}
      </main>
    </div>
  );
}
