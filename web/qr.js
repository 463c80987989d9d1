/**
 * QR codes as inline SVG, from Debian's `node-qrcode-generator` (Kazuhiko Arase's encoder), which
 * Scripts/deps.sh copies to web/vendor/qrcode-generator.js and index.html loads as a classic script
 * (it defines the global `qrcode`). Without that file there is no QR code, and callers say so.
 * @module qr
 */
const SVG = 'http://www.w3.org/2000/svg';

/**
 * @param {string} text what the code encodes (a URL)
 * @returns {SVGSVGElement|null} a square SVG (dark modules on white, with the quiet zone), or null
 */
export function qrSVG(text) {
  const make = globalThis.qrcode;
  if (typeof make !== 'function') return null;
  const q = make(0, 'M');  // type 0: the smallest version that fits
  q.addData(text);
  q.make();
  const n = q.getModuleCount();
  const quiet = 4;
  const size = n + quiet * 2;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('class', 'qr');
  svg.setAttribute('aria-hidden', 'true');
  const bg = document.createElementNS(SVG, 'rect');
  bg.setAttribute('width', String(size));
  bg.setAttribute('height', String(size));
  bg.setAttribute('fill', '#fff');
  svg.append(bg);
  let d = '';
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (q.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(path);
  return svg;
}
