// Broadcast peer for Scripts/bench.sh: every message received on /ws goes to every open client
// (sender included). Debian's node-ws: NODE_PATH=/usr/share/nodejs node ws_broadcast.js PORT
'use strict';
const { WebSocketServer, WebSocket } = require('ws');
const port = parseInt(process.argv[2] || '0', 10);
const wss = new WebSocketServer({ host: '127.0.0.1', port, path: '/ws', perMessageDeflate: false, clientTracking: true });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const c of wss.clients) {
      if (c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary });
    }
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.error(`listening on ${wss.address().port}`));
