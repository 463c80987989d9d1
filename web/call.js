/**
 * Partner calls in the interview view: WebRTC peer to peer, one connection per partner (a trio is a
 * three-way mesh). The server only relays call setup between current partners (`call.signal`) and
 * hands out ICE servers with short-lived TURN credentials (`call.ice`); media never crosses it.
 *
 * Who offers: the partner with the lower member id, always, so two offers never cross. The other
 * side says `ready` when it joins (or needs a fresh session after a failure), and the offerer makes
 * a new connection. After a network change the offerer restarts ICE on the same connection.
 * Every signal carries the `session` of its peer connection (the offerer picks one per connection):
 * a `ready` can cross an offer in flight, and the first connection's answer and candidates must not
 * land on the second.
 *
 * Exposes `window.__call` (state, getStats figures, signaling bytes) for tests and troubleshooting.
 * @module call
 */
import { h, fill, announce } from './ui.js';

const RESTARTS = 3; // ICE restarts the offerer tries before a fresh connection
const RESTART_EVERY_MS = 5000; // between the offerer's ICE restarts
// The answering side waits out the offerer's ICE restarts before asking for a fresh session (`ready`).
const ANSWER_WAIT_MS = 2000 + (RESTARTS + 1) * RESTART_EVERY_MS;
const CONNECT_TIMEOUT_MS = 25000; // no connection after this long: offer the meeting link instead
const PACE_BURST = 20; // signals sent at once before pacing starts (the server allows calls.signalBurst, 30)
const PACE_PER_SECOND = 8; // then this many per second (the server allows calls.signalsPerSecond, 10)
const RESENDS = 5; // a signal the server dropped as rate_limited is sent again this many times at most
const RESEND_AFTER_MS = 300;

/** SDP fingerprint line: without `session` (another client), a new one means a new session, not a renegotiation. */
function fingerprint(sdp) {
  const m = /a=fingerprint:[^\r\n]+/.exec(sdp || '');
  return m ? m[0] : '';
}

/** A new peer connection's `session`: random, so a reloaded page never reuses its last one. */
function newSession() {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return (hi & 0x1fffff) * 0x100000000 + lo; // at most 2^53 - 1, as the server accepts
}

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @returns {{el: HTMLElement, update: () => void}}
 */
export function callPanel(rt) {
  const status = h('p', { class: 'call-status', id: 'call-status', role: 'status', 'aria-live': 'polite' });
  const grid = h('div', { class: 'call-grid', id: 'call-grid' });
  const controls = h('div', { class: 'call-controls' });
  const el = h('div', { class: 'call-panel', id: 'call-panel', hidden: true },
    h('h3', {}, 'Talk face to face'), status, grid, controls);

  let pair = null; // yourPair as last seen
  let pairKey = '';
  let joined = false;
  let live = false; // joined, with the camera and the ICE servers in hand
  let autoJoin = false; // once you joined a call, calls with later partners start by themselves
  let audioOnly = false;
  let relayOnly = localStorage.getItem('roundtable:callRelayOnly') === '1';
  let local = null;
  let iceServers = [];
  let message = '';
  let problem = null; // {text, link?} shown with the meeting-link fallback
  const peers = new Map(); // partner id -> peer
  let made = 0; // peers created, so a replaced connection redraws its tile
  const waiting = new Set(); // partners who said ready or offered before you joined
  const pendingOffers = new Map();
  const signalBytes = { sent: 0, received: 0, messages: 0 };
  const localVideo = h('video', { autoplay: true, playsinline: true, muted: true, id: 'call-local', class: 'call-video local' });
  localVideo.muted = true;

  const partners = () => (pair?.partners || []);
  const nameOf = (id) => partners().find((p) => p.id === id)?.name || `member ${id}`;
  const iOffer = (id) => rt.me < id;

  // Signals leave through a pacer: the server drops what exceeds calls.signalBurst / signalsPerSecond
  // (30 and 10 by default), and two partners' ICE candidates come in bursts. Pacing a little under that,
  // and sending again what was dropped anyway (a server configured lower), keeps every candidate.
  const outbox = [];
  let tokens = PACE_BURST;
  let refilledAt = Date.now();
  let pump = null;
  function send(to, signal) {
    outbox.push({ to, signal, tries: 0 });
    drain();
  }
  function drain(pause = 0) {
    if (pump) return;
    const now = Date.now();
    tokens = Math.min(PACE_BURST, tokens + ((now - refilledAt) * PACE_PER_SECOND) / 1000);
    refilledAt = now;
    while (!pause && outbox.length && tokens >= 1) {
      tokens -= 1;
      transmit(outbox.shift());
    }
    if (outbox.length) pump = setTimeout(() => { pump = null; drain(); }, pause || Math.ceil(((1 - tokens) * 1000) / PACE_PER_SECOND));
  }
  function transmit(item) {
    const { to, signal } = item;
    signalBytes.sent += new TextEncoder().encode(JSON.stringify({ type: 'call.signal', to, signal })).length;
    signalBytes.messages += 1;
    rt.request('call.signal', { to, signal }).catch((e) => {
      if (e.code === 'rate_limited' && item.tries < RESENDS) {
        item.tries += 1;
        outbox.unshift(item);
        tokens = 0;
        drain(RESEND_AFTER_MS);
      } else if (e.code === 'partner_offline') setPeerNote(to, `${nameOf(to)} is offline right now; the call resumes when they are back.`);
      else if (e.code !== 'interviews_inactive' && e.code !== 'not_partner') console.warn('call.signal', e.code, e.message);
    });
  }

  function setPeerNote(id, text) {
    const p = peers.get(id);
    if (p) { p.note = text; render(); } else { message = text; render(); }
  }

  function makePeer(id, session = newSession()) {
    closePeer(id);
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: relayOnly ? 'relay' : 'all' });
    const video = h('video', { autoplay: true, playsinline: true, class: 'call-video', dataset: { member: id } });
    const peer = { id, n: ++made, session, pc, video, queue: [], restarts: 0, note: '', timer: null, started: Date.now(), connectedOnce: false };
    peers.set(id, peer);
    for (const t of local.getTracks()) pc.addTrack(t, local);
    if (iOffer(id) && !local.getVideoTracks().length) pc.addTransceiver('video', { direction: 'recvonly' });
    pc.onicecandidate = (e) => { if (e.candidate) send(id, { kind: 'candidate', candidate: e.candidate.toJSON(), session }); };
    pc.ontrack = (e) => { if (video.srcObject !== e.streams[0]) video.srcObject = e.streams[0]; };
    pc.onconnectionstatechange = () => onState(peer);
    peer.timer = setTimeout(() => {
      if (peers.get(id) === peer && !peer.connectedOnce) fail(`We could not connect you to ${nameOf(id)}: the networks between you block direct calls and no relay was reachable.`);
    }, CONNECT_TIMEOUT_MS);
    render();
    return peer;
  }

  function closePeer(id) {
    const p = peers.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    clearTimeout(p.retry);
    p.pc.onconnectionstatechange = null;
    p.pc.close();
    p.video.srcObject = null;
    peers.delete(id);
  }

  async function offer(peer, iceRestart = false) {
    try {
      const o = await peer.pc.createOffer({ iceRestart });
      await peer.pc.setLocalDescription(o);
      send(peer.id, { kind: 'offer', sdp: peer.pc.localDescription.sdp, session: peer.session });
    } catch (e) { console.warn('offer failed', e); }
  }

  function onState(peer) {
    const s = peer.pc.connectionState;
    if (s === 'connected') {
      peer.connectedOnce = true;
      peer.restarts = 0;
      peer.note = '';
      clearTimeout(peer.retry);
      problem = null;
      announce(`Connected to ${nameOf(peer.id)}`);
    } else if (s === 'disconnected' || s === 'failed') {
      recover(peer, s === 'failed' ? 0 : 2000);
    }
    render();
  }

  /** After a network change or failure: the offerer restarts ICE, the other side asks for a new session if it lasts. */
  function recover(peer, delay) {
    clearTimeout(peer.retry);
    peer.retry = setTimeout(() => {
      if (peers.get(peer.id) !== peer || peer.pc.connectionState === 'connected') return;
      if (iOffer(peer.id)) {
        if (peer.restarts < RESTARTS) {
          peer.restarts += 1;
          peer.note = 'Reconnecting…';
          render();
          offer(peer, true);
          recover(peer, RESTART_EVERY_MS);
        } else {
          offer(makePeer(peer.id));
        }
      } else {
        send(peer.id, { kind: 'ready' });
        recover(peer, ANSWER_WAIT_MS);
      }
    }, iOffer(peer.id) ? delay : ANSWER_WAIT_MS);
  }

  async function onSignal(msg) {
    signalBytes.received += new TextEncoder().encode(JSON.stringify(msg)).length;
    if (!pair || msg.round !== pair.round || msg.pair !== pair.pair) return;
    const from = msg.from;
    const s = msg.signal || {};
    if (s.kind === 'hangup') {
      closePeer(from);
      waiting.delete(from);
      pendingOffers.delete(from);
      message = `${nameOf(from)} left the call.`;
      render();
      return;
    }
    // Until join() has the camera and the ICE servers (`live`), a partner's ready or offer waits for it:
    // a connection made before then would have no tracks to send and no relay to use.
    if (!live) {
      if (s.kind === 'ready' || s.kind === 'offer') {
        waiting.add(from);
        if (s.kind === 'offer') pendingOffers.set(from, s);
        render();
      }
      return;
    }
    if (s.kind === 'ready') {
      if (iOffer(from)) offer(makePeer(from));
      return;
    }
    if (s.kind === 'offer') return answer(from, s.sdp, s.session);
    const peer = peers.get(from);
    // An answer or candidate of a connection already replaced (a ready crossed our offer): not this one's.
    if (!peer || (s.session != null && s.session !== peer.session)) return;
    try {
      if (s.kind === 'answer') {
        await peer.pc.setRemoteDescription({ type: 'answer', sdp: s.sdp });
        for (const c of peer.queue.splice(0)) await peer.pc.addIceCandidate(c);
      } else if (s.kind === 'candidate') {
        if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(s.candidate);
        else peer.queue.push(s.candidate);
      }
    } catch (e) { console.warn('call signal', s.kind, e); }
  }

  async function answer(from, sdp, session) {
    let peer = peers.get(from);
    // The same session: a renegotiation (ICE restart) of this connection; otherwise a new connection.
    const same = peer && (session != null ? peer.session === session : fingerprint(peer.pc.remoteDescription?.sdp) === fingerprint(sdp));
    if (!same) peer = makePeer(from, session);
    try {
      await peer.pc.setRemoteDescription({ type: 'offer', sdp });
      for (const c of peer.queue.splice(0)) await peer.pc.addIceCandidate(c);
      const a = await peer.pc.createAnswer();
      await peer.pc.setLocalDescription(a);
      send(from, { kind: 'answer', sdp: peer.pc.localDescription.sdp, session: peer.session });
    } catch (e) { console.warn('answer failed', e); }
  }

  async function join() {
    if (joined || !pair) return;
    joined = true;
    autoJoin = true;
    message = 'Starting your camera and microphone…';
    problem = null;
    render();
    try {
      local = await navigator.mediaDevices.getUserMedia({ audio: true, video: !audioOnly });
    } catch (e) {
      if (!audioOnly && (e.name === 'NotFoundError' || e.name === 'NotReadableError' || e.name === 'OverconstrainedError')) {
        try {
          local = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
          message = 'No camera is available: you are in the call with audio only.';
        } catch (e2) { return refused(e2); }
      } else return refused(e);
    }
    localVideo.srcObject = local;
    try {
      const ice = await rt.request('call.ice');
      iceServers = ice.iceServers || [];
    } catch (e) {
      leave(false);
      message = e.code === 'interviews_inactive' ? 'The round is over.' : `The call could not start (${e.message}).`;
      render();
      return;
    }
    if (!joined) return;
    if (!message.startsWith('No camera')) message = '';
    live = true;
    for (const p of partners()) {
      if (iOffer(p.id)) offer(makePeer(p.id));
      else if (pendingOffers.has(p.id)) answer(p.id, pendingOffers.get(p.id).sdp, pendingOffers.get(p.id).session);
      else send(p.id, { kind: 'ready' });
    }
    pendingOffers.clear();
    waiting.clear();
    render();
  }

  function refused(e) {
    joined = false;
    live = false;
    autoJoin = false;
    const denied = e && (e.name === 'NotAllowedError' || e.name === 'SecurityError');
    fail(denied
      ? 'Your browser did not allow the camera and microphone, so the call cannot start here.'
      : 'No camera or microphone could be started on this device.');
  }

  function fail(text) {
    problem = { text, link: pair?.link };
    message = '';
    render();
  }

  /** Leaves the call (you stay in the interview); `tell` sends hangup to the partners. */
  function leave(tell = true) {
    if (tell) for (const id of peers.keys()) send(id, { kind: 'hangup' });
    for (const id of [...peers.keys()]) closePeer(id);
    if (local) for (const t of local.getTracks()) t.stop();
    local = null;
    localVideo.srcObject = null;
    joined = false;
    live = false;
    render();
  }

  function toggle(kind) {
    const tracks = kind === 'audio' ? local?.getAudioTracks() : local?.getVideoTracks();
    for (const t of tracks || []) t.enabled = !t.enabled;
    render();
  }

  rt.on('call.signal', (m) => { onSignal(m); });
  rt.on('call.ended', (m) => {
    if (!pair || m.round !== pair.round) return;
    const why = { 'new-round': 'a new round started', 'round-over': 'the round is over', 'interviews-ended': 'the interviews ended',
      'pairs-changed': 'the pairs changed', 'member-left': 'a partner left the room', 'member-removed': 'a partner was removed',
      'room-closed': 'the session is closed' }[m.reason] || m.reason;
    const was = joined;
    leave(false);
    autoJoin = autoJoin && was;
    message = `Call ended: ${why}.`;
    // The next pair (a new interview.assigned) starts its call by itself when you were in this one.
    render();
  });
  // A network change: the offerer restarts ICE for every partner right away.
  const restartAll = () => { for (const p of peers.values()) if (p.pc.connectionState !== 'connected') recover(p, 500); };
  window.addEventListener('online', restartAll);
  rt.on('connection', (s) => { if (s === 'open' || s === 'live') restartAll(); });

  function button(id, label, onClick, attrs = {}) {
    return h('button', { type: 'button', id, class: 'small', on: { click: onClick }, ...attrs }, label);
  }

  const sigs = { status: '', grid: '', controls: '' };
  /** Refills a part only when what it shows changed: buttons are not rebuilt under the pointer. */
  function refill(part, node, sig, children) {
    if (sigs[part] === sig) return;
    sigs[part] = sig;
    fill(node, ...children()); // built only now: building moves the video elements into new tiles
  }

  function render() {
    el.hidden = !pair || !window.RTCPeerConnection;
    if (el.hidden) return;
    const list = [...peers.values()];
    const states = list.map((p) => p.pc.connectionState);
    const overall = !joined ? 'idle' : states.length && states.every((s) => s === 'connected') ? 'connected'
      : states.some((s) => s === 'failed') ? 'failed' : 'connecting';
    el.dataset.state = overall;
    const who = partners().filter((p) => waiting.has(p.id)).map((p) => p.name);
    const words = { new: 'waiting…', connecting: 'connecting…', connected: 'connected', disconnected: 'reconnecting…', failed: 'connection lost', closed: 'closed' };
    const peerText = list.map((p) => [p.id, p.pc.connectionState, `${nameOf(p.id)}: ${p.note || words[p.pc.connectionState]} `]);
    refill('status', status, JSON.stringify([joined, who, peerText, message]), () => [
      !joined ? (who.length ? `${who.join(' and ')} ${who.length > 1 ? 'are' : 'is'} waiting for you in the call.` : 'Call your partner right here: nothing to install.') : '',
      joined ? peerText.map(([id, state, text]) => h('span', { class: 'call-peer-state', dataset: { member: id, state } }, text)) : '',
      message ? h('span', { class: 'call-message' }, message) : '']);
    refill('grid', grid, JSON.stringify([joined, list.map((p) => p.n)]), () => [
      joined ? localVideo : null, joined ? list.map((p) => h('figure', { class: 'call-tile' }, p.video, h('figcaption', {}, nameOf(p.id)))) : null]);
    const audio = local?.getAudioTracks()[0];
    const video = local?.getVideoTracks()[0];
    refill('controls', controls, JSON.stringify([joined, !!audio, audio?.enabled, !!video, video?.enabled, audioOnly, relayOnly, problem]), () => [
      !joined ? [
        button('call-join', 'Join the call', () => join(), { class: 'primary' }),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'call-audio-only', checked: audioOnly, on: { change: (e) => { audioOnly = e.target.checked; render(); } } }), h('span', {}, 'Audio only')),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'call-relay-only', checked: relayOnly, on: { change: (e) => { relayOnly = e.target.checked; localStorage.setItem('roundtable:callRelayOnly', relayOnly ? '1' : '0'); render(); } } }), h('span', {}, 'Hide my network address (relay only)')),
      ] : [
        audio ? button('call-mute', audio.enabled ? 'Mute' : 'Unmute', () => toggle('audio'), { 'aria-pressed': String(!audio.enabled) }) : null,
        video ? button('call-camera', video.enabled ? 'Camera off' : 'Camera on', () => toggle('video'), { 'aria-pressed': String(!video.enabled) }) : null,
        button('call-leave', 'Leave the call', () => { autoJoin = false; leave(true); message = 'You left the call. You are still in the interview.'; render(); }),
      ],
      problem ? h('div', { class: 'notice', id: 'call-problem' }, h('p', {}, problem.text),
        problem.link ? h('p', {}, h('a', { class: 'button', href: problem.link, target: '_blank', rel: 'noopener noreferrer', id: 'call-fallback-link' }, 'Use your meeting room instead ↗'))
          : h('p', { class: 'hint' }, 'Try another browser or network, or meet in your usual meeting tool.')) : null]);
  }

  window.__call = {
    state: () => ({ joined, round: pair?.round, pair: pair?.pair, overall: el.dataset.state, problem: problem?.text || null,
      peers: Object.fromEntries([...peers.values()].map((p) => [p.id, { connection: p.pc.connectionState, ice: p.pc.iceConnectionState, session: p.n, restarts: p.restarts }])) }),
    signalBytes,
    /** Per partner: RTP bytes and packets received, and the candidate types of the pair in use. */
    async stats() {
      const out = {};
      for (const p of peers.values()) {
        const r = await p.pc.getStats();
        const s = { bytesReceived: 0, packetsReceived: 0, bytesSent: 0, local: null, remote: null };
        let pairId = null;
        r.forEach((x) => {
          if (x.type === 'inbound-rtp') { s.bytesReceived += x.bytesReceived || 0; s.packetsReceived += x.packetsReceived || 0; }
          if (x.type === 'outbound-rtp') s.bytesSent += x.bytesSent || 0;
          if (x.type === 'transport' && x.selectedCandidatePairId) pairId = x.selectedCandidatePairId;
        });
        const cp = pairId && r.get(pairId);
        if (cp) { s.local = r.get(cp.localCandidateId)?.candidateType; s.remote = r.get(cp.remoteCandidateId)?.candidateType; }
        out[p.id] = s;
      }
      return out;
    },
  };

  return {
    el,
    update() {
      const p = rt.state.interviews?.yourPair || null;
      const key = p && p.phase !== 'done' ? `${p.round}:${p.pair}:${(p.partners || []).map((x) => x.id).sort().join(',')}` : '';
      if (key !== pairKey) {
        if (pairKey && joined) leave(true); // the pair changed without call.ended reaching us
        pairKey = key;
        pair = key ? p : null;
        waiting.clear();
        pendingOffers.clear();
        if (pair) { problem = null; if (autoJoin) join(); }
      } else if (p) pair = p;
      render();
    },
  };
}
