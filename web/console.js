/**
 * The facilitator console at laptop size: the run of show (the running step, Next, the wall) always on
 * top, everything else one click away in tabs: the agenda editor with announcements and timers, needs
 * and polls, people and groups, interviews, and settings (reports, access, closing the session).
 * Controls that change the room carry the class `when-open`: once the session is closed, style.css
 * hides them (`body.room-closed`), since the server refuses every change with `room_closed`.
 * @module console
 */
import { h } from './ui.js';
import { buildShow, errorBox, plainError } from './show.js';
import { buildAgendaEditor } from './agenda.js';
import { buildTabs } from './tabs.js';
import { pollsSection, needsSection } from './console-polls.js';
import { interviewsSection, groupsSection, timersSection, peopleSection } from './console-room.js';
import { exportsSection, closingSection } from './console-settings.js';

/** The tab shown when the console opens, remembered per browser. */
export const TAB_KEY = 'roundtable:consoleTab';

/**
 * @param {import('./client.js').RoundtableClient} rt
 * @param {object} helpers `{act, field, pollCard, needsPanel, roomLink}` from app.js
 */
export function buildConsole(rt, helpers) {
  const { act, field, roomLink } = helpers;
  const show = buildShow(rt, { act, joinLink: roomLink });
  const agenda = buildAgendaEditor(rt, { act, field, plain: plainError, errorBox });
  const s = {
    polls: pollsSection(rt, helpers), needs: needsSection(rt, helpers), interviews: interviewsSection(rt, helpers),
    groups: groupsSection(rt, helpers), timers: timersSection(rt, helpers), people: peopleSection(rt),
    exports: exportsSection(rt, helpers), closing: closingSection(rt, helpers),
  };
  const columns = (left, right, cls = '') => h('div', { class: `layout ${cls}` }, h('div', { class: 'col' }, left), h('div', { class: 'col' }, right));
  const sections = [
    { id: 'show', label: 'Run of show', panel: columns(agenda.el, [s.timers.el, show.join], 'wide-left') },
    { id: 'polls', label: 'Needs & polls', panel: columns(s.polls.el, s.needs.el) },
    { id: 'people', label: 'People & groups', panel: columns(s.people.el, s.groups.el) },
    { id: 'interviews', label: 'Interviews', panel: h('div', { class: 'layout single' }, s.interviews.el) },
    { id: 'settings', label: 'Settings', panel: columns(s.exports.el, s.closing.el) },
  ];
  const tabs = buildTabs(sections, { label: 'Console sections', storageKey: TAB_KEY, className: 'tabs console-tabs' });
  const panels = h('div', { class: 'console-panels' }, sections.map((t) => t.panel));
  const el = h('div', { class: 'console' }, show.el, tabs.list, panels);
  const parts = [show, agenda, ...Object.values(s)];
  return { el, tabs, update() { for (const p of parts) p.update(); } };
}
