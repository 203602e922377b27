// Thin client for the drak-web REST API (docs/web.md). Errors carry the server's JSON message.
const TOKEN_KEY = 'drakweb.token';

export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || '';
}
export function setToken(t) {
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const h = { ...extra };
  const t = getToken();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function check(res) {
  if (res.ok) return res;
  let msg = `${res.status} ${res.statusText}`;
  try {
    const j = await res.json();
    if (j && j.error) msg = j.error;
  } catch (_) { /* not JSON */ }
  throw new ApiError(res.status, msg);
}

export const enc = (uid) => encodeURIComponent(uid);

export async function getJson(path) {
  const res = await check(await fetch(path, { headers: headers() }));
  return res.json();
}

export async function getText(path, range) {
  const h = range ? { Range: range } : {};
  const res = await check(await fetch(path, { headers: headers(h) }));
  return res.text();
}

// downloadUrl appends the token for plain links (they cannot carry headers).
export function downloadUrl(path) {
  const t = getToken();
  const sep = path.includes('?') ? '&' : '?';
  return t ? `${path}${sep}access_token=${encodeURIComponent(t)}` : path;
}

// upload posts the form with progress reporting (fetch has no upload progress).
export function upload(form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    const t = getToken();
    if (t) xhr.setRequestHeader('Authorization', `Bearer ${t}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* ignore */ }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body);
      else reject(new ApiError(xhr.status, (body && body.error) || `upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network error'));
    xhr.send(form);
  });
}

// parseJsonLines splits a chunk of JSON Lines; unparseable pieces become null rows.
export function parseJsonLines(text) {
  return text.split('\n').filter((l) => l.length > 0).map((l) => {
    try { return JSON.parse(l); } catch (_) { return null; }
  });
}
