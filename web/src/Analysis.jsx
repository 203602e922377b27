import React, { useEffect, useState, useCallback, useMemo, useRef } from 'react';
import { getJson, getText, enc, downloadUrl, parseJsonLines, ApiError } from './api.js';
import { fmtTime, fmtDuration, basename, STATUS_LABEL } from './util.js';

const TABS = ['Summary', 'Process tree', 'Logs', 'API calls', 'Downloads'];

function useStatus(uid) {
  const [status, setStatus] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stop = false;
    let timer = null;
    const poll = async () => {
      try {
        const s = await getJson(`/status/${enc(uid)}`);
        if (stop) return;
        setStatus(s); setError('');
        if (s.status === 'pending') timer = setTimeout(poll, 3000);
      } catch (e) {
        if (!stop) { setError(e.message); timer = setTimeout(poll, 5000); }
      }
    };
    poll();
    return () => { stop = true; clearTimeout(timer); };
  }, [uid]);
  return [status, error];
}

function useJson(path, enabled = true) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    if (!enabled) return undefined;
    let stop = false;
    setState({ data: null, error: null, loading: true });
    getJson(path).then((data) => !stop && setState({ data, error: null, loading: false }))
      .catch((error) => !stop && setState({ data: null, error, loading: false }));
    return () => { stop = true; };
  }, [path, enabled]);
  return state;
}

function Pending({ status }) {
  const [t0] = useState(Date.now());
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t); }, []);
  const state = status && status.state;
  return (
    <div className="card pending" data-testid="pending">
      <div className="pending-row">
        <span className={`badge ${state || 'pending'}`}>{STATUS_LABEL[state] || 'Pending'}</span>
        <span>{state === 'started' ? 'The sample is running in the sandbox' : 'Waiting for a sandbox worker'}
          {status && status.vm_id ? ` (VM ${status.vm_id})` : ''}…</span>
        <span className="muted">{fmtDuration((now - t0) / 1000)} on this page</span>
      </div>
      <div className="progress"><div className={`bar ${state === 'started' ? 'running' : ''}`} /></div>
      <p className="muted small">This page refreshes by itself; results appear when the analysis finishes.</p>
    </div>
  );
}

function Kv({ k, v, mono }) {
  return <div className="kv"><span className="k">{k}</span><span className={`v ${mono ? 'mono' : ''}`}>{v ?? '—'}</span></div>;
}

function Stat({ label, value, onClick }) {
  return (
    <button className="stat" onClick={onClick} disabled={!onClick}>
      <span className="stat-value">{value}</span><span className="stat-label">{label}</span>
    </button>
  );
}

function ListBlock({ title, rows, render, empty }) {
  const [all, setAll] = useState(false);
  if (!rows || rows.length === 0) return null;
  const shown = all ? rows : rows.slice(0, 8);
  return (
    <div className="block">
      <h3>{title} <span className="muted">({rows.length})</span></h3>
      <ul className="plain">{shown.map((r, i) => <li key={i}>{render(r)}</li>)}</ul>
      {rows.length > 8 && <button className="link" onClick={() => setAll(!all)}>{all ? 'Show less' : `Show all ${rows.length}`}</button>}
      {rows.length === 0 && <div className="muted">{empty}</div>}
    </div>
  );
}

function Summary({ uid, meta, setTab }) {
  const report = useJson(`/report/${enc(uid)}`);
  const r = report.data;
  return (
    <div className="summary">
      <div className="card">
        <h3>Sample</h3>
        <Kv k="SHA-256" v={meta && meta.sample_sha256} mono />
        <Kv k="Type" v={meta && meta.magic_output} />
        <Kv k="Start command" v={meta && meta.start_command} mono />
        <Kv k="Started" v={meta && fmtTime(meta.time_started)} />
        <Kv k="Finished" v={meta && fmtTime(meta.time_finished)} />
        <Kv k="Duration" v={meta && meta.time_finished ? fmtDuration(meta.time_finished - meta.time_started) : null} />
      </div>
      {report.loading && <div className="muted pad">Loading report…</div>}
      {report.error && <div className="card muted">No report.json for this analysis ({report.error.message}).</div>}
      {r && (
        <>
          <div className="stats" data-testid="summary-stats">
            <Stat label="processes" value={(r.processes || []).length} onClick={() => setTab(1)} />
            <Stat label="files written" value={((r.files || {}).written || []).length} />
            <Stat label="registry changes" value={(((r.registry || {}).set || []).length) + (((r.registry || {}).deleted || []).length)} />
            <Stat label="network endpoints" value={((r.network || {}).endpoints || []).length} />
            <Stat label="memory dumps" value={(r.dumps || {}).count || 0} onClick={() => setTab(4)} />
            <Stat label="log records" value={Object.values(r.plugins || {}).reduce((a, b) => a + b, 0)} onClick={() => setTab(2)} />
          </div>
          <div className="card report-lists">
            <ListBlock title="Processes" rows={r.processes} render={(p) => (
              <span><span className="pid">{p.pid}</span> <strong>{basename(p.name)}</strong> <span className="muted mono small">{p.command_line}</span></span>)} />
            <ListBlock title="Files written" rows={(r.files || {}).written} render={(f) => <span className="mono small">{f.path} <span className="muted">pid {f.pid}</span></span>} />
            <ListBlock title="Files deleted" rows={(r.files || {}).deleted} render={(f) => <span className="mono small">{f.path}</span>} />
            <ListBlock title="Registry values set" rows={(r.registry || {}).set} render={(x) => <span className="mono small">{x.key}{x.value_name ? `\\${x.value_name}` : ''} = {String(x.value).slice(0, 80)}</span>} />
            <ListBlock title="Network" rows={(r.network || {}).endpoints} render={(n) => <span className="mono small">{n.protocol} {n.ip}:{n.port} <span className="muted">pid {n.pid}</span></span>} />
            <ListBlock title="DNS" rows={(r.network || {}).dns} render={(n) => <span className="mono small">{n.name}</span>} />
            <div className="block">
              <h3>Log records per plugin</h3>
              <div className="plugin-bars">
                {Object.entries(r.plugins || {}).map(([k, v]) => (
                  <button key={k} className="plugin-bar" onClick={() => setTab(2, k)}>
                    <span>{k}</span><span className="mono">{v}</span>
                  </button>
                ))}
              </div>
            </div>
            {(r.warnings || []).length > 0 && <ListBlock title="Warnings" rows={r.warnings} render={(w) => <span className="warn">{w}</span>} />}
          </div>
        </>
      )}
    </div>
  );
}

function TreeNode({ node, depth, selected, onSelect, collapsed, toggle }) {
  const key = `${node.pid}@${node.ts_from}`;
  const hasKids = node.children && node.children.length > 0;
  const isCollapsed = collapsed.has(key);
  return (
    <li>
      <div className={`tree-row ${selected === key ? 'selected' : ''}`} style={{ paddingLeft: depth * 18 + 6 }}
        onClick={() => onSelect(node, key)} tabIndex={0} data-testid="tree-node"
        onKeyDown={(e) => { if (e.key === 'Enter') onSelect(node, key); if (e.key === ' ') { e.preventDefault(); toggle(key); } }}>
        <span className="twisty" onClick={(e) => { e.stopPropagation(); if (hasKids) toggle(key); }}>
          {hasKids ? (isCollapsed ? '▸' : '▾') : '·'}
        </span>
        <span className="pid">{node.pid}</span>
        <span className="pname">{basename(node.procname)}</span>
        <span className="args muted">{(node.args || []).slice(1).join(' ')}</span>
        {node.ts_to === null && node.procname !== 'Mocked parent' && <span className="alive" title="still running at the end">●</span>}
      </div>
      {hasKids && !isCollapsed && (
        <ul className="tree">{node.children.map((c) => (
          <TreeNode key={`${c.pid}@${c.ts_from}`} node={c} depth={depth + 1} selected={selected}
            onSelect={onSelect} collapsed={collapsed} toggle={toggle} />))}
        </ul>
      )}
    </li>
  );
}

function ProcessTree({ uid, openApi }) {
  const tree = useJson(`/processed/${enc(uid)}/process_tree`);
  const [sel, setSel] = useState(null);
  const [node, setNode] = useState(null);
  const [collapsed, setCollapsed] = useState(new Set());
  const toggle = (k) => { const s = new Set(collapsed); if (s.has(k)) s.delete(k); else s.add(k); setCollapsed(s); };
  if (tree.loading) return <div className="muted pad">Loading process tree…</div>;
  if (tree.error) return <div className="card muted">No process tree ({tree.error.message}).</div>;
  return (
    <div className="split">
      <div className="card tree-card">
        <ul className="tree root" data-testid="process-tree">
          {tree.data.map((n) => (
            <TreeNode key={`${n.pid}@${n.ts_from}`} node={n} depth={0} selected={sel}
              onSelect={(nd, k) => { setSel(k); setNode(nd); }} collapsed={collapsed} toggle={toggle} />))}
        </ul>
      </div>
      <div className="card detail" data-testid="process-detail">
        {node ? (
          <>
            <h3>{basename(node.procname)} <span className="pid">{node.pid}</span></h3>
            <Kv k="Image" v={node.procname} mono />
            <Kv k="Arguments" v={(node.args || []).join(' ') || '—'} mono />
            <Kv k="Started" v={node.ts_from ? fmtTime(node.ts_from) : 'before the analysis'} />
            <Kv k="Exited" v={node.ts_to ? fmtTime(node.ts_to) : 'still running'} />
            <Kv k="Children" v={(node.children || []).length} />
            <div className="actions"><button onClick={() => openApi(node.pid)}>API calls of {node.pid}</button></div>
          </>
        ) : <div className="muted">Select a process to see its details. <kbd>Space</kbd> folds a branch.</div>}
      </div>
    </div>
  );
}

const HIDDEN = new Set(['Plugin', 'TimeStamp', 'PID', 'PPID', 'TID', 'UserName', 'UserId', 'ProcessName', 'Method', 'EventUID', 'VCPU', 'CR3', 'SessionID', 'UserName', 'Event']);

function recordDetail(r) {
  return Object.entries(r).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => {
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `${k}=${s.length > 160 ? `${s.slice(0, 160)}…` : s}`;
  }).join('  ');
}

// Chunks of a log: from the index (§8.3: marker i starts chunk i; marker.line is one-based for
// i > 0) or, without an index, fixed 1 MiB byte windows.
function chunksOf(index) {
  if (!index || !index.markers || index.markers.length === 0) return null;
  const m = index.markers;
  return m.map((mk, i) => ({
    first: mk.offset,
    last: i + 1 < m.length ? m[i + 1].offset - 1 : null,
    line: i === 0 ? 0 : mk.line - 1,
  }));
}

function LogViewer({ uid, initial }) {
  const logs = useJson(`/logs/${enc(uid)}`);
  const names = useMemo(() => (logs.data || []).map((k) => basename(k).replace(/\.log$/, '')).sort(), [logs.data]);
  const [type, setType] = useState(initial || null);
  const [index, setIndex] = useState(null);
  const [page, setPage] = useState(0);
  const [rows, setRows] = useState(null);
  const [raw, setRaw] = useState(false);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState('');
  const filterRef = useRef(null);

  useEffect(() => { if (!type && names.length) setType(names.includes('procmon') ? 'procmon' : names[0]); }, [names, type]);

  useEffect(() => {
    if (!type) return;
    let stop = false;
    setIndex(null); setPage(0); setRows(null);
    getJson(`/logindex/${enc(uid)}/${type}`).then((ix) => !stop && setIndex(ix))
      .catch(() => !stop && setIndex({ markers: [], num_lines: null, chunk_size: 1048576 }));
    return () => { stop = true; };
  }, [uid, type]);

  const chunks = useMemo(() => chunksOf(index), [index]);
  const pages = chunks ? chunks.length : null;

  useEffect(() => {
    if (!type || !index) return;
    let stop = false;
    setRows(null); setError('');
    let range; let firstLine = 0; let dropFirst = false;
    if (chunks) {
      const c = chunks[page];
      range = `bytes=${c.first}-${c.last === null ? '' : c.last}`;
      firstLine = c.line;
    } else {
      const w = 1048576;
      range = `bytes=${page * w}-${(page + 1) * w - 1}`;
      dropFirst = page > 0;
      firstLine = null;
    }
    getText(`/logs/${enc(uid)}/${type}`, range).then((text) => {
      if (stop) return;
      let lines = text.split('\n');
      if (lines.length && lines[lines.length - 1] === '') lines.pop();
      if (dropFirst) lines = lines.slice(1);
      setRows(lines.map((l, i) => {
        let rec = null;
        try { rec = JSON.parse(l); } catch (_) { /* keep raw */ }
        return { n: firstLine === null ? null : firstLine + i + 1, raw: l, rec };
      }));
    }).catch((e) => { if (!stop) { if (e instanceof ApiError && e.status === 416) setRows([]); else setError(e.message); } });
    return () => { stop = true; };
  }, [uid, type, index, chunks, page]);

  const canNext = chunks ? page + 1 < pages : rows && rows.length > 0;
  useEffect(() => {
    const onKey = (e) => {
      if (e.target.matches('input, textarea, select')) return;
      if (e.key === 'n' && canNext) setPage((p) => p + 1);
      if (e.key === 'p') setPage((p) => Math.max(0, p - 1));
      if (e.key === '/') { e.preventDefault(); filterRef.current && filterRef.current.focus(); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [canNext]);

  const shown = (rows || []).filter((r) => !filter || r.raw.toLowerCase().includes(filter.toLowerCase()));

  return (
    <div className="card logs">
      <div className="log-tools">
        <div className="log-types" role="tablist">
          {names.map((n) => (
            <button key={n} className={`chip ${n === type ? 'on' : ''}`} onClick={() => setType(n)} data-testid={`log-${n}`}>{n}</button>
          ))}
        </div>
      </div>
      {type && (
        <div className="log-bar">
          <button className="small" disabled={page === 0} onClick={() => setPage(page - 1)} title="previous page (p)">‹ Prev</button>
          <span className="mono small" data-testid="log-page">
            page {page + 1}{pages ? ` / ${pages}` : ''}
            {index && index.num_lines ? ` · ${index.num_lines.toLocaleString()} lines` : ''}
          </span>
          <button className="small" disabled={!canNext} onClick={() => setPage(page + 1)} title="next page (n)">Next ›</button>
          <input ref={filterRef} className="filter" placeholder="Filter this page  ( / )" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <label className="small"><input type="checkbox" checked={raw} onChange={(e) => setRaw(e.target.checked)} /> raw</label>
          <a className="small" href={downloadUrl(`/logs/${enc(uid)}/${type}?download=1`)}>download</a>
        </div>
      )}
      {error && <div className="error">{error}</div>}
      {rows === null && !error && <div className="muted pad">Loading…</div>}
      {rows && (
        <div className="log-scroll">
          <table className="grid log-table" data-testid="log-table">
            <tbody>
              {shown.map((r, i) => (
                <tr key={i}>
                  <td className="ln mono">{r.n ?? ''}</td>
                  {raw || !r.rec ? <td className="mono small" colSpan={5}>{r.raw}</td> : (
                    <>
                      <td className="mono small nowrap">{fmtTime(r.rec.TimeStamp).slice(11)}</td>
                      <td className="mono small">{r.rec.PID ?? ''}</td>
                      <td className="small nowrap">{basename(r.rec.ProcessName)}</td>
                      <td className="small method">{r.rec.Method || r.rec.Event || ''}</td>
                      <td className="mono small detail-cell">{recordDetail(r.rec)}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <div className="muted pad">No records{filter ? ' match the filter' : ''}.</div>}
        </div>
      )}
    </div>
  );
}

function ApiCalls({ uid, pid, setPid }) {
  const tree = useJson(`/processed/${enc(uid)}/process_tree`);
  const pids = useMemo(() => {
    const out = [];
    const walk = (n) => { if (n.procname !== 'Mocked parent') out.push({ pid: n.pid, name: basename(n.procname) }); (n.children || []).forEach(walk); };
    (tree.data || []).forEach(walk);
    return out;
  }, [tree.data]);
  const [calls, setCalls] = useState(null);
  const [error, setError] = useState('');
  const [limit, setLimit] = useState(1048576);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    if (!pid) return;
    let stop = false;
    setCalls(null); setError('');
    getText(`/processed/${enc(uid)}/apicall/${pid}`, `bytes=0-${limit - 1}`).then((t) => {
      if (stop) return;
      const lines = t.split('\n');
      const complete = t.endsWith('\n') ? lines : lines.slice(0, -1);
      setCalls({ rows: parseJsonLines(complete.join('\n')), partial: t.length >= limit });
    }).catch((e) => !stop && setError(e.status === 404 ? 'No API calls were recorded for this process.' : e.message));
    return () => { stop = true; };
  }, [uid, pid, limit]);
  const rows = (calls ? calls.rows : []).filter((c) => c && (!filter || JSON.stringify(c).toLowerCase().includes(filter.toLowerCase())));
  return (
    <div className="card">
      <div className="log-bar">
        <select value={pid || ''} onChange={(e) => setPid(Number(e.target.value))} data-testid="api-pid">
          <option value="" disabled>Choose a process</option>
          {pids.map((p) => <option key={`${p.pid}-${p.name}`} value={p.pid}>{p.pid} · {p.name}</option>)}
        </select>
        <input className="filter" placeholder="Filter calls" value={filter} onChange={(e) => setFilter(e.target.value)} />
        {calls && <span className="muted small">{rows.length} calls{calls.partial ? ' (first part)' : ''}</span>}
        {calls && calls.partial && <button className="small" onClick={() => setLimit(limit * 4)}>Load more</button>}
      </div>
      {error && <div className="muted pad">{error}</div>}
      {!pid && <div className="muted pad">Choose a process (or select one in the process tree).</div>}
      {calls && (
        <div className="log-scroll">
          <table className="grid log-table" data-testid="api-table">
            <thead><tr><th>Time</th><th>Method</th><th>Arguments</th><th>Returns</th></tr></thead>
            <tbody>
              {rows.map((c, i) => (
                <tr key={i}>
                  <td className="mono small nowrap">{fmtTime(c.timestamp).slice(11)}</td>
                  <td className="method small">{c.method}</td>
                  <td className="mono small detail-cell">{(c.arguments || []).join(', ')}</td>
                  <td className="mono small">{c.returnvalue}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Downloads({ uid }) {
  const logs = useJson(`/logs/${enc(uid)}`);
  const items = [
    ['Memory dumps', `/dumps/${enc(uid)}`, 'dumps.zip'],
    ['Network capture + TLS keys', `/pcap_dump/${enc(uid)}`, 'pcap.zip'],
    ['Process tree', `/processed/${enc(uid)}/process_tree`, 'process_tree.json'],
    ['Metadata', `/metadata/${enc(uid)}`, 'metadata.json'],
    ['Report', `/report/${enc(uid)}`, 'report.json'],
  ];
  return (
    <div className="downloads">
      <div className="card">
        <h3>Artifacts</h3>
        <ul className="plain dl">
          {items.map(([label, href, file]) => (
            <li key={href}><a href={downloadUrl(href)} download={file}>{label}</a> <span className="muted mono small">{file}</span></li>))}
        </ul>
      </div>
      <div className="card">
        <h3>Logs</h3>
        <ul className="plain dl">
          {(logs.data || []).map((k) => {
            const n = basename(k).replace(/\.log$/, '');
            return <li key={k}><a href={downloadUrl(`/logs/${enc(uid)}/${n}?download=1`)}>{n}.log</a></li>;
          })}
        </ul>
      </div>
    </div>
  );
}

export default function Analysis({ uid, navigate }) {
  const [status, statusError] = useStatus(uid);
  const done = status && status.status === 'done';
  const meta = useJson(`/metadata/${enc(uid)}`, !!done);
  const [tab, setTabState] = useState(0);
  const [logType, setLogType] = useState(null);
  const [apiPid, setApiPid] = useState(null);
  const setTab = useCallback((t, log) => { setTabState(t); if (log) setLogType(log); }, []);

  useEffect(() => {
    const onKey = (e) => {
      if (e.target.matches('input, textarea, select')) return;
      const n = Number(e.key);
      if (n >= 1 && n <= TABS.length) setTabState(n - 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const crashed = status && status.state === 'crashed';
  return (
    <div className="analysis">
      <div className="analysis-head">
        <button className="ghost small" onClick={() => navigate('/')}>← Analyses</button>
        <h1 className="mono" title={uid}>{uid}</h1>
        {status && <span className={`badge ${status.state || (done ? 'finished' : 'pending')}`} data-testid="status">
          {STATUS_LABEL[status.state] || (done ? 'Done' : 'Pending')}</span>}
      </div>
      {statusError && <div className="error">{statusError}</div>}
      {status && !done && <Pending status={status} />}
      {crashed && <div className="card error">The analysis crashed. Logs below may be incomplete; see drakrun.log.</div>}
      {done && (
        <>
          <nav className="tabs" role="tablist">
            {TABS.map((t, i) => (
              <button key={t} role="tab" aria-selected={tab === i} className={tab === i ? 'on' : ''}
                onClick={() => setTabState(i)} data-testid={`tab-${i + 1}`}>
                <kbd>{i + 1}</kbd> {t}
              </button>
            ))}
          </nav>
          {tab === 0 && <Summary uid={uid} meta={meta.data} setTab={setTab} />}
          {tab === 1 && <ProcessTree uid={uid} openApi={(pid) => { setApiPid(pid); setTabState(3); }} />}
          {tab === 2 && <LogViewer uid={uid} initial={logType} />}
          {tab === 3 && <ApiCalls uid={uid} pid={apiPid} setPid={setApiPid} />}
          {tab === 4 && <Downloads uid={uid} />}
        </>
      )}
    </div>
  );
}
