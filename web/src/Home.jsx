import React, { useEffect, useRef, useState, useCallback } from 'react';
import { getJson, upload, enc } from './api.js';
import { fmtTime, shortMagic, STATUS_LABEL } from './util.js';

const PLUGINS = ['procmon', 'apimon', 'filetracer', 'regmon', 'socketmon', 'tlsmon', 'memdump',
  'librarymon', 'exmon', 'syscalls', 'fileextractor', 'crashmon'];
const DEFAULT_PLUGINS = new Set(PLUGINS.slice(0, 9));

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function UploadCard({ navigate }) {
  const [file, setFile] = useState(null);
  const [fileName, setFileName] = useState('');
  const [timeout, setTimeoutValue] = useState('');
  const [startCommand, setStartCommand] = useState('');
  const [plugins, setPlugins] = useState(new Set(DEFAULT_PLUGINS));
  const [advanced, setAdvanced] = useState(false);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState(0);
  const [error, setError] = useState('');
  const [drag, setDrag] = useState(false);
  const input = useRef(null);

  const submit = async (e) => {
    e.preventDefault();
    if (!file) { setError('Choose a sample first.'); return; }
    setBusy(true); setError(''); setProgress(0);
    const form = new FormData();
    form.append('file', file, file.name);
    if (fileName.trim()) form.append('file_name', fileName.trim());
    if (timeout.trim()) form.append('timeout', timeout.trim());
    if (startCommand.trim()) form.append('start_command', startCommand.trim());
    if (advanced) form.append('plugins', JSON.stringify([...plugins]));
    try {
      const res = await upload(form, setProgress);
      navigate(`/analysis/${enc(res.task_uid)}`);
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };

  const toggle = (p) => {
    const s = new Set(plugins);
    if (s.has(p)) s.delete(p); else s.add(p);
    setPlugins(s);
  };

  return (
    <section className="card upload-card">
      <h2>New analysis</h2>
      <form onSubmit={submit}>
        <label
          className={`dropzone ${drag ? 'drag' : ''} ${file ? 'has-file' : ''}`}
          onDragOver={(e) => { e.preventDefault(); setDrag(true); }}
          onDragLeave={() => setDrag(false)}
          onDrop={(e) => { e.preventDefault(); setDrag(false); if (e.dataTransfer.files[0]) setFile(e.dataTransfer.files[0]); }}
        >
          <input ref={input} type="file" name="file" data-testid="file-input"
            onChange={(e) => setFile(e.target.files[0] || null)} />
          {file ? (
            <span><strong>{file.name}</strong><span className="muted"> · {fmtSize(file.size)}</span></span>
          ) : (
            <span>Drop a sample here or <u>browse</u><br /><span className="muted">PE (win32/win64) or ELF · platform is detected from the file</span></span>
          )}
        </label>
        <div className="row">
          <label className="field">
            <span>File name <span className="muted">(optional)</span></span>
            <input value={fileName} onChange={(e) => setFileName(e.target.value)} placeholder={file ? file.name : 'invoice.exe'} />
          </label>
          <label className="field narrow">
            <span>Timeout (s)</span>
            <input value={timeout} inputMode="numeric" onChange={(e) => setTimeoutValue(e.target.value)} placeholder="600" />
          </label>
        </div>
        <label className="field">
          <span>Start command <span className="muted">(optional, %f = sample path)</span></span>
          <input value={startCommand} onChange={(e) => setStartCommand(e.target.value)} placeholder="default for the extension" />
        </label>
        <button type="button" className="link" onClick={() => setAdvanced(!advanced)}>
          {advanced ? '▾' : '▸'} Plugins {advanced ? '' : <span className="muted">(worker defaults)</span>}
        </button>
        {advanced && (
          <div className="plugins">
            {PLUGINS.map((p) => (
              <label key={p} className={`chip ${plugins.has(p) ? 'on' : ''}`}>
                <input type="checkbox" checked={plugins.has(p)} onChange={() => toggle(p)} />{p}
              </label>
            ))}
          </div>
        )}
        {error && <div className="error" role="alert">{error}</div>}
        <div className="actions">
          <button type="submit" disabled={busy} data-testid="submit">
            {busy ? `Uploading ${Math.round(progress * 100)}%` : 'Analyze'}
          </button>
        </div>
      </form>
    </section>
  );
}

function Recent({ navigate }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  const [sel, setSel] = useState(0);
  const [updated, setUpdated] = useState(null);
  const filterRef = useRef(null);

  const load = useCallback(async () => {
    try {
      setItems(await getJson('/list'));
      setError('');
      setUpdated(new Date());
    } catch (e) { setError(e.message); }
  }, []);

  useEffect(() => {
    load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [load]);

  const shown = (items || []).filter((it) => {
    if (!filter) return true;
    const f = filter.toLowerCase();
    const meta = it.meta || {};
    return [it.id, it.status, meta.sample_sha256, meta.magic_output, meta.file_name]
      .some((v) => v && String(v).toLowerCase().includes(f));
  });

  useEffect(() => {
    const onKey = (e) => {
      if (e.target.matches('input, textarea, select')) {
        if (e.key === 'Escape') e.target.blur();
        return;
      }
      if (e.key === '/') { e.preventDefault(); filterRef.current && filterRef.current.focus(); }
      if (e.key === 'j') setSel((s) => Math.min(s + 1, shown.length - 1));
      if (e.key === 'k') setSel((s) => Math.max(s - 1, 0));
      if (e.key === 'Enter' && shown[sel]) navigate(`/analysis/${enc(shown[sel].id)}`);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [shown, sel, navigate]);

  return (
    <section className="card recent">
      <div className="card-head">
        <h2>Recent analyses</h2>
        <div className="head-tools">
          <input ref={filterRef} className="filter" placeholder="Filter  ( / )" value={filter}
            onChange={(e) => { setFilter(e.target.value); setSel(0); }} />
          <span className="muted small">{updated ? `auto-refresh · ${updated.toLocaleTimeString()}` : ''}</span>
        </div>
      </div>
      {error && <div className="error">{error}</div>}
      {items === null && !error && <div className="muted pad">Loading…</div>}
      {items && shown.length === 0 && <div className="empty">No analyses yet. Upload a sample to start.</div>}
      {shown.length > 0 && (
        <table className="grid clickable" data-testid="recent-table">
          <thead><tr><th>Status</th><th>SHA-256</th><th>File type</th><th>Started</th><th>Analysis</th></tr></thead>
          <tbody>
            {shown.map((it, i) => {
              const meta = it.meta || {};
              return (
                <tr key={it.id} className={i === sel ? 'selected' : ''}
                  onClick={() => navigate(`/analysis/${enc(it.id)}`)}>
                  <td><span className={`badge ${it.status}`}>{STATUS_LABEL[it.status] || it.status}</span></td>
                  <td className="mono" title={meta.sample_sha256}>{meta.sample_sha256 ? `${meta.sample_sha256.slice(0, 16)}…` : '—'}</td>
                  <td title={meta.magic_output}>{shortMagic(meta.magic_output)}</td>
                  <td className="mono small">{fmtTime(meta.time_started)}</td>
                  <td className="mono small muted">{it.id}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

export default function Home({ navigate }) {
  return (
    <div className="home">
      <UploadCard navigate={navigate} />
      <Recent navigate={navigate} />
    </div>
  );
}
