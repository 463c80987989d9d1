/**
 * Tabs after the WAI-ARIA tabs pattern (https://www.w3.org/WAI/ARIA/apg/patterns/tabs/): one tab stop,
 * Left/Right (wrapping), Home and End move between tabs and select them; each tab controls its tabpanel.
 * The chosen tab can be remembered in localStorage.
 * @module tabs
 */
import { h } from './ui.js';

/**
 * @param {{id: string, label: string, panel: HTMLElement}[]} tabs each panel gets id `panel-<id>`
 * @param {{label: string, storageKey?: string, className?: string, extra?: Node}} options
 * @returns {{list: HTMLElement, select: (id: string, focus?: boolean) => void, current: () => string}}
 */
export function buildTabs(tabs, { label, storageKey, className = 'tabs', extra = null }) {
  const list = h('div', { class: className, role: 'tablist', 'aria-label': label });
  let current = tabs[0].id;
  const select = (id, focus) => {
    if (!tabs.some((t) => t.id === id)) id = tabs[0].id;
    current = id;
    for (const t of tabs) {
      const on = t.id === id;
      t.button.setAttribute('aria-selected', String(on));
      t.button.tabIndex = on ? 0 : -1;
      t.panel.hidden = !on;
    }
    if (focus) list.querySelector(`#tab-${id}`).focus();
    if (storageKey) {
      try { localStorage.setItem(storageKey, id); } catch { /* private mode: not remembered */ }
    }
  };
  const step = { ArrowRight: 1, ArrowLeft: -1 };
  for (const t of tabs) {
    t.panel.id = `panel-${t.id}`;
    t.panel.setAttribute('role', 'tabpanel');
    t.panel.setAttribute('aria-labelledby', `tab-${t.id}`);
    t.button = h('button', {
      type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': `panel-${t.id}`, on: {
        click: () => select(t.id),
        keydown: (e) => {
          const i = tabs.findIndex((x) => x.id === current);
          let to = null;
          if (step[e.key]) to = (i + step[e.key] + tabs.length) % tabs.length;
          else if (e.key === 'Home') to = 0;
          else if (e.key === 'End') to = tabs.length - 1;
          if (to === null) return;
          e.preventDefault();
          select(tabs[to].id, true);
        },
      },
    }, t.label);
    list.append(t.button);
  }
  if (extra) list.append(extra);
  let start = tabs[0].id;
  if (storageKey) {
    try { start = localStorage.getItem(storageKey) || start; } catch { /* not remembered */ }
  }
  select(start);
  return { list, select, current: () => current };
}
