// Formatting helpers shared by the pages.
export function fmtTime(ts) {
  if (ts === null || ts === undefined || ts === '') return '—';
  const n = Number(ts);
  if (!Number.isFinite(n) || n <= 0) return '—';
  const d = new Date(n * 1000);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function fmtDuration(s) {
  if (!Number.isFinite(s) || s < 0) return '—';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function basename(p) {
  if (!p) return '';
  const parts = String(p).split(/[\\/]/);
  return parts[parts.length - 1];
}

export function shortMagic(m) {
  if (!m) return '—';
  return String(m).split(',')[0];
}

export const STATUS_LABEL = { pending: 'Pending', started: 'Running', finished: 'Finished', crashed: 'Crashed' };
