import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// drak-web serves dist/ itself; during `npm run dev` API calls go to a local drak-web.
const api = ['/upload', '/list', '/status', '/metadata', '/report', '/logs', '/logindex',
  '/processed', '/dumps', '/pcap_dump', '/graph'];
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: Object.fromEntries(api.map((p) => [p, 'http://127.0.0.1:6300'])),
  },
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 400 },
});
