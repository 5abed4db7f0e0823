// The page: gamewire/browser loaded as plain modules from the server (no bundler).
import { BrowserClient, RetryMode } from '/pkg/browser/index.js';

const status = document.getElementById('status');
const log = document.getElementById('log');
const show = (text) => {
  log.append(`${text}\n`);
  log.scrollTop = log.scrollHeight;
};

const info = await (await fetch('/gamewire/info')).json();
const client = new BrowserClient({ rootPublicKey: info.rootPublicKey });
client.on('message', (_seq, bytes) => show(new TextDecoder().decode(bytes)));
client.on('disconnected', (_status, reason) => {
  status.textContent = `disconnected (${reason})`;
  status.dataset.state = 'disconnected';
});
// `auto`: WebTransport (pinned to the development certificate's hash), else the WebSocket.
await client.connect(
  { webtransport: info.webtransport.url, websocket: info.websocket.url },
  { transport: new URLSearchParams(location.search).get('transport') ?? 'auto', serverCertificateHashes: [info.webtransport.certificateHash] },
);
status.textContent = `connected over ${client.transport} as ${client.token}`;
status.dataset.state = 'connected';
status.dataset.transport = client.transport;

document.getElementById('say').addEventListener('submit', (e) => {
  e.preventDefault();
  const line = document.getElementById('line');
  if (line.value) client.send(new TextEncoder().encode(line.value), RetryMode.RETRY_ON_TIMEOUT);
  line.value = '';
});
window.addEventListener('pagehide', () => void client.disconnect());
