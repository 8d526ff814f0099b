/* global document, window, fetch, location, URLSearchParams */
// claimtrail review: a small single-page app over the review API. No build step, no framework.
// Every text from the server is set with textContent (never innerHTML), so claim data cannot
// inject markup. Keyboard: every control is a native button, link or form field; shortcuts:
// N take the next case, / focus the first search field, Esc back to the list.

const state = { me: null };

/** Creates an element: h('a', { href: '#/x', class: 'c', onclick: fn }, 'text', child). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return el;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error;
  }
}

async function api(method, path, body) {
  const init = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/auth/login') {
      state.me = null;
      location.hash = '#/login';
    }
    throw new ApiError(res.status, json);
  }
  return json;
}

function flash(message, kind = 'info') {
  const box = document.getElementById('flash');
  const item = h('div', { class: kind === 'error' ? 'error' : '' }, message);
  box.append(item);
  window.setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

const fmt = {
  score: (s) => (typeof s === 'number' ? s.toFixed(3) : '—'),
  money: (n) => (typeof n === 'number' ? `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}` : '—'),
  time: (iso) => (iso ? new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' }) : '—'),
  due: (c) => {
    if (c.status === 'closed') return c.breached ? 'closed late' : 'closed in time';
    const ms = new Date(c.dueAt).getTime() - Date.now();
    const hours = Math.round(Math.abs(ms) / 3_600_000);
    return ms < 0 ? `overdue ${hours} h` : `due in ${hours} h`;
  },
  label: (s) => String(s).replace(/_/g, ' '),
};

function pill(text, kind) {
  return h('span', { class: `pill ${kind || text}` }, fmt.label(text));
}

function table(headers, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col', class: x.endsWith(' ') ? 'num' : '' }, x.trim())))), h('tbody', {}, rows));
}

function page(title, ...content) {
  const main = document.getElementById('main');
  main.replaceChildren(h('h1', {}, title), ...content.filter(Boolean));
  document.title = `${title} · claimtrail review`;
  main.focus();
}

// ---- navigation ----------------------------------------------------------------------------

const NAV = {
  investigator: [['#/work', 'My work']],
  supervisor: [['#/work', 'Work'], ['#/supervisor', 'Queues & audit']],
  compliance: [['#/compliance', 'Proofs'], ['#/alerts', 'Alerts'], ['#/audit', 'Audit']],
  admin: [['#/admin', 'Users'], ['#/alerts', 'Alerts'], ['#/audit', 'Audit']],
};
/** Pages each role may open (the API checks again on every call). */
const PAGES = { investigator: ['work', 'case'], supervisor: ['work', 'case', 'supervisor', 'audit'], compliance: ['compliance', 'alerts', 'audit'], admin: ['admin', 'alerts', 'audit'] };
const HOME = { investigator: '#/work', supervisor: '#/supervisor', compliance: '#/compliance', admin: '#/admin' };

function renderChrome() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!state.me) {
    nav.replaceChildren();
    who.replaceChildren();
    return;
  }
  const current = location.hash.split('/').slice(0, 2).join('/');
  nav.replaceChildren(...NAV[state.me.role].map(([href, text]) => h('a', { href, 'aria-current': current === href ? 'page' : null }, text)));
  who.replaceChildren(`${state.me.name} · ${state.me.role}`, h('button', { type: 'button', onclick: logout }, 'Sign out'));
}

async function logout() {
  await api('POST', '/api/auth/logout').catch(() => undefined);
  state.me = null;
  location.hash = '#/login';
}

// ---- pages ---------------------------------------------------------------------------------

function loginPage() {
  const error = h('p', { class: 'muted', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new window.FormData(form);
        try {
          state.me = await api('POST', '/api/auth/login', { name: data.get('name'), password: data.get('password') });
          location.hash = HOME[state.me.role];
        } catch (e) {
          error.textContent = e.message;
        }
      },
    },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'login-name' }, 'User name'),
    h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true }),
    h('label', { for: 'login-password' }, 'Password'),
    h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('button', { class: 'primary', type: 'submit' }, 'Sign in'),
    error,
  );
  document.getElementById('main').replaceChildren(form);
  document.title = 'Sign in · claimtrail review';
  form.querySelector('input').focus();
}

function queueStats(queues) {
  return h(
    'div',
    { class: 'stats' },
    queues.map((q) =>
      h('div', { class: 'stat' }, h('small', {}, `${q.title} · SLA ${q.slaHours} h`), h('b', {}, q.open + q.snoozed), h('small', {}, `open · ${q.assigned} assigned · ${q.escalated} escalated · `), q.breached > 0 ? pill(`${q.breached} breached`, 'breached') : h('small', {}, '0 breached')),
    ),
  );
}

function caseRows(items, opts = {}) {
  return items.map((c) =>
    h(
      'tr',
      { class: 'row-link' },
      // Investigators open only their own cases; the rest of the queue is reached with take-next.
      h('td', {}, state.me.role === 'supervisor' || c.assigneeId === state.me.userId ? h('a', { href: `#/case/${c.caseId}` }, c.claimId) : c.claimId),
      h('td', {}, c.queue),
      h('td', {}, pill(c.outcome)),
      h('td', { class: 'num' }, fmt.score(c.score)),
      h('td', { class: 'num' }, fmt.money(c.amount)),
      h('td', {}, c.ruleCodes.join(', ') || '—'),
      h('td', {}, pill(c.status)),
      opts.assignee ? h('td', {}, c.assigneeName || '—') : null,
      h('td', {}, c.breached && c.status !== 'closed' ? pill(fmt.due(c), 'breached') : fmt.due(c)),
    ),
  );
}
const CASE_HEADERS = ['Claim', 'Queue', 'Outcome', 'Score ', 'Amount ', 'Rule hits', 'Status', 'SLA'];

async function takeNext(queue) {
  const { case: c } = await api('POST', '/api/cases/take-next', queue ? { queue } : {});
  if (!c) {
    flash('Nothing left to take in this queue.');
    return;
  }
  location.hash = `#/case/${c.caseId}`;
}

/** "1-25 of 31" with previous / next links that keep the other hash parameters. */
function pager(list, base, params) {
  const link = (offset, text) => {
    const next = new URLSearchParams(params);
    next.set('offset', String(offset));
    return h('a', { class: 'button', href: `${base}?${next}` }, text);
  };
  const last = Math.min(list.offset + list.items.length, list.total);
  return h('div', { class: 'pager' }, h('span', { class: 'muted' }, list.total ? `${list.offset + 1}-${last} of ${list.total}` : 'none'), list.offset > 0 ? link(Math.max(0, list.offset - list.limit), 'Previous') : null, last < list.total ? link(list.offset + list.limit, 'Next') : null);
}

function filterForm(fields, values, onsubmit) {
  const form = h(
    'form',
    { class: 'inline', role: 'search', onsubmit: (event) => { event.preventDefault(); onsubmit(Object.fromEntries([...new window.FormData(form)].filter(([, v]) => v !== ''))); } },
    fields.map(([name, label, options]) =>
      h('div', {}, h('label', { for: `f-${name}` }, label), options === 'date' ? h('input', { id: `f-${name}`, name, type: 'date', value: values[name] || '' }) : options ? h('select', { id: `f-${name}`, name }, h('option', { value: '' }, 'any'), options.map((o) => h('option', { value: o, selected: values[name] === o }, fmt.label(o)))) : h('input', { id: `f-${name}`, name, value: values[name] || '', size: 14 })),
    ),
    h('button', { type: 'submit' }, 'Filter'),
  );
  return form;
}

const STATUSES = ['open', 'assigned', 'snoozed', 'escalated', 'closed'];
const DATE_FIELDS = [['from', 'Created from', 'date'], ['to', 'Created to', 'date']];

/**
 * The API query for case filters: the date inputs (YYYY-MM-DD, the user's local days) become
 * instants, `from` the start of its day and `to` the start of the day after (the API's `to` is
 * exclusive), so "from 3 to 5 March" includes all of 5 March.
 */
function caseQuery(filters) {
  const query = new URLSearchParams(filters);
  const day = (value, plus) => {
    const [y, m, d] = value.split('-').map(Number);
    return new Date(y, m - 1, d + plus).toISOString();
  };
  if (/^\d{4}-\d{2}-\d{2}$/.test(filters.from || '')) query.set('from', day(filters.from, 0));
  if (/^\d{4}-\d{2}-\d{2}$/.test(filters.to || '')) query.set('to', day(filters.to, 1));
  return query;
}

async function workPage(params) {
  const [{ queues }, mine] = await Promise.all([api('GET', '/api/queues'), api('GET', '/api/cases?assignee=me&status=assigned&limit=50')]);
  const filters = Object.fromEntries(params);
  const query = caseQuery({ limit: '25', ...filters });
  if (!filters.status) query.set('status', 'open');
  const list = await api('GET', `/api/cases?${query}`);
  const queueSelect = h('select', { id: 'take-queue', 'aria-label': 'Queue to take from' }, h('option', { value: '' }, 'any queue'), queues.map((q) => h('option', { value: q.name }, q.title)));
  page(
    'My work',
    h('div', { class: 'card' }, h('h2', {}, 'Queues'), queueStats(queues), h('p', {}, h('button', { class: 'primary', id: 'take-next', type: 'button', onclick: () => takeNext(queueSelect.value).catch((e) => flash(e.message, 'error')) }, 'Take next case'), ' ', queueSelect, ' ', h('span', { class: 'muted' }, 'shortcut ', h('kbd', {}, 'N')))),
    h('div', { class: 'card' }, h('h2', {}, `Assigned to me (${mine.total})`), mine.items.length ? table(CASE_HEADERS, caseRows(mine.items)) : h('p', { class: 'muted' }, 'Nothing assigned. Take the next case.')),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, `Queue (${list.total})`),
      filterForm([['queue', 'Queue', queues.map((q) => q.name)], ['status', 'Status', STATUSES], ['provider', 'Provider NPI'], ['member', 'Member'], ['rule', 'Reason code'], ...DATE_FIELDS], filters, (f) => { location.hash = `#/work?${new URLSearchParams(f)}`; }),
      table(CASE_HEADERS, caseRows(list.items)),
      pager(list, '#/work', filters),
    ),
  );
}

function reasonRows(reasons) {
  const max = Math.max(0.0001, ...reasons.map((r) => Math.abs(r.contribution)));
  return reasons.map((r) => h('tr', {}, h('td', { class: 'mono' }, r.code), h('td', {}, r.text), h('td', { class: 'num' }, r.contribution.toFixed(3)), h('td', {}, h('span', { class: `bar ${r.contribution < 0 ? 'neg' : ''}`, 'data-width': Math.round((Math.abs(r.contribution) / max) * 100) }))));
}

function claimPanel(claim) {
  if (!claim) return h('p', { class: 'muted' }, 'Claim payload not available.');
  // Crypto-shredded by `claimtrail erase`: the decision and its proof remain, the claim is gone.
  if (claim.erased) return h('p', { class: 'muted' }, `Claim erased ${fmt.time(claim.erasedAt)}: the member's data key was deleted; the decision and its proof remain verifiable.`);
  const kv = [
    ['Member', claim.memberId],
    ['Billing provider', claim.billingProviderNpi],
    ['Specialty', claim.providerSpecialty],
    ['Type', claim.claimType],
    ['Service', `${claim.serviceFrom} → ${claim.serviceTo}`],
    ['Place of service', claim.placeOfService],
    ['Diagnoses', (claim.diagnosisCodes || []).join(', ')],
    ['Total charged', fmt.money(claim.totalCharged)],
  ].filter(([, v]) => v !== undefined && v !== null);
  return h(
    'div',
    {},
    h('dl', { class: 'kv' }, kv.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
    h('h2', {}, 'Lines'),
    table(['Code', 'Modifiers', 'Units ', 'Charged ', 'Date'], (claim.lines || []).map((l) => h('tr', {}, h('td', { class: 'mono' }, l.procedureCode), h('td', {}, (l.modifiers || []).join(' ')), h('td', { class: 'num' }, l.units), h('td', { class: 'num' }, fmt.money(l.chargedAmount)), h('td', {}, l.serviceDate || '')))),
  );
}

const ATTACHMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'text/plain', 'text/csv'];

/** Uploads one file as the raw request body (the API checks type, size and bytes). */
async function uploadAttachment(caseId, file) {
  const res = await fetch(`/api/cases/${encodeURIComponent(caseId)}/attachments?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': file.type || 'application/octet-stream' },
    body: file,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, res.status === 413 ? { message: 'The file is larger than 5 MiB.' } : json);
  return json;
}

function attachmentsCard(c, attachments, reload) {
  const form = h(
    'form',
    {
      class: 'inline',
      id: 'attachment-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const file = form.querySelector('input[type=file]').files[0];
        if (!file) return;
        try {
          await uploadAttachment(c.caseId, file);
          flash(`Attached ${file.name}.`);
          reload();
        } catch (e) {
          flash(e.message, 'error');
        }
      },
    },
    h('div', {}, h('label', { for: 'attachment-file' }, 'Attach a file (PDF, PNG, JPEG, text or CSV, at most 5 MiB)'), h('input', { id: 'attachment-file', type: 'file', accept: ATTACHMENT_TYPES.join(','), required: true })),
    h('button', { type: 'submit' }, 'Upload'),
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-attachments' },
    h('h2', { id: 'h-attachments' }, `Attachments (${attachments.length})`),
    attachments.length
      ? h('ul', { id: 'attachment-list' }, attachments.map((a) => h('li', {}, h('a', { href: `/api/cases/${encodeURIComponent(c.caseId)}/attachments/${encodeURIComponent(a.attachmentId)}`, download: a.fileName }, a.fileName), ` · ${a.contentType}, ${(a.sizeBytes / 1024).toFixed(1)} KiB · ${a.uploadedBy} · ${fmt.time(a.createdAt)}`)))
      : h('p', { class: 'muted' }, 'No attachments.'),
    form,
  );
}

async function casePage(caseId) {
  const [d, files] = await Promise.all([api('GET', `/api/cases/${encodeURIComponent(caseId)}`), api('GET', `/api/cases/${encodeURIComponent(caseId)}/attachments`)]);
  const c = d.case;
  const open = c.status !== 'closed';
  const mayAct = open && (state.me.role === 'supervisor' || c.assigneeId === state.me.userId);
  const reload = () => casePage(caseId).catch(showError);

  const dispositionForm = h(
    'form',
    {
      id: 'disposition-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new window.FormData(dispositionForm);
        try {
          await api('POST', `/api/cases/${c.caseId}/disposition`, { disposition: data.get('disposition'), note: data.get('note') });
          flash(`Case ${c.claimId}: ${fmt.label(data.get('disposition'))} recorded.`);
          location.hash = '#/work';
        } catch (e) {
          flash(e.message, 'error');
        }
      },
    },
    h('fieldset', {}, h('legend', {}, 'Disposition'), ['confirmed_fraud', 'false_positive', 'needs_information', 'escalated'].map((v, i) => h('label', {}, h('input', { type: 'radio', name: 'disposition', value: v, required: true, accesskey: String(i + 1) }), fmt.label(v)))),
    h('label', { for: 'disposition-note' }, 'Note (required)'),
    h('textarea', { id: 'disposition-note', name: 'note', required: true }),
    h('p', {}, h('button', { class: 'primary', type: 'submit' }, 'Record disposition')),
  );

  const noteForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (event) => {
        event.preventDefault();
        const body = noteForm.querySelector('input').value;
        try {
          await api('POST', `/api/cases/${c.caseId}/notes`, { body });
          reload();
        } catch (e) {
          flash(e.message, 'error');
        }
      },
    },
    h('div', {}, h('label', { for: 'note-body' }, 'Add a note'), h('input', { id: 'note-body', size: 50, required: true })),
    h('button', { type: 'submit' }, 'Add note'),
  );

  const snoozeForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (event) => {
        event.preventDefault();
        const value = snoozeForm.querySelector('input').value;
        try {
          await api('POST', `/api/cases/${c.caseId}/snooze`, { until: new Date(value).toISOString() });
          flash('Snoozed.');
          location.hash = '#/work';
        } catch (e) {
          flash(e.message, 'error');
        }
      },
    },
    h('div', {}, h('label', { for: 'snooze-until' }, 'Snooze until'), h('input', { id: 'snooze-until', type: 'datetime-local', required: true })),
    h('button', { type: 'submit' }, 'Snooze'),
  );

  let reassign = null;
  if (state.me.role === 'supervisor' && open) {
    const { users } = await api('GET', '/api/team');
    const select = h('select', { id: 'reassign-to' }, users.map((u) => h('option', { value: u.userId, selected: u.userId === c.assigneeId }, `${u.name} (${u.role})`)));
    reassign = h(
      'form',
      {
        class: 'inline',
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api('POST', `/api/cases/${c.caseId}/reassign`, { assigneeId: select.value });
            flash('Reassigned.');
            reload();
          } catch (e) {
            flash(e.message, 'error');
          }
        },
      },
      h('div', {}, h('label', { for: 'reassign-to' }, 'Assign to'), select),
      h('button', { type: 'submit' }, 'Reassign'),
    );
  }

  const p = d.proof;
  page(
    `Case ${c.claimId}`,
    h('p', {}, pill(c.outcome), ' ', pill(c.status), ' ', c.breached && open ? pill(fmt.due(c), 'breached') : h('span', { class: 'muted' }, fmt.due(c)), ' ', h('span', { class: 'muted' }, `queue ${c.queue} · assigned to ${c.assigneeName || 'nobody'} · opened ${fmt.time(c.createdAt)}`)),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'h-score' },
        h('h2', { id: 'h-score' }, 'Score'),
        h('dl', { class: 'kv' }, h('dt', {}, 'Ensemble'), h('dd', {}, h('b', {}, fmt.score(d.decision.score))), h('dt', {}, 'Random forest'), h('dd', {}, fmt.score(d.decision.components.rf)), h('dt', {}, 'Neural network'), h('dd', {}, fmt.score(d.decision.components.nn)), h('dt', {}, 'Priority'), h('dd', {}, c.priority === null ? '—' : c.priority.toFixed(1)), h('dt', {}, 'Model'), h('dd', { class: 'mono' }, d.decision.modelHash.slice(0, 18) + '…'), h('dt', {}, 'Decided'), h('dd', {}, fmt.time(d.decision.decidedAt))),
        d.ruleHits.length ? h('p', {}, h('b', {}, 'Rule hits: '), d.ruleHits.map((r) => r.code).join(', ')) : null,
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'h-proof' },
        h('h2', { id: 'h-proof' }, 'Proof status'),
        h('dl', { class: 'kv' }, h('dt', {}, 'Batch'), h('dd', { class: 'mono' }, p.batchId), h('dt', {}, 'Status'), h('dd', {}, pill(p.batchStatus === 'anchored' ? 'anchored' : 'pending', p.batchStatus === 'anchored' ? 'ok' : 'warn')), h('dt', {}, 'Transaction'), h('dd', { class: 'mono' }, p.txHash || '—'), h('dt', {}, 'Block'), h('dd', {}, p.blockNumber || '—'), h('dt', {}, 'Confirmations'), h('dd', {}, p.confirmations === null ? '—' : String(p.confirmations)), h('dt', {}, 'Own anchor'), h('dd', { class: 'mono' }, p.flaggedTxHash || '—')),
      ),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'h-reasons' }, h('h2', { id: 'h-reasons' }, 'Reasons'), table(['Code', 'Explanation', 'Contribution ', ''], reasonRows(d.decision.reasons))),
    h('div', { class: 'grid' }, h('section', { class: 'card', 'aria-labelledby': 'h-claim' }, h('h2', { id: 'h-claim' }, 'Claim'), claimPanel(d.claim)), h('section', { class: 'card', 'aria-labelledby': 'h-related' }, h('h2', { id: 'h-related' }, `Related claims (${d.related.length})`), d.related.length ? table(['Claim', 'Same', 'Outcome', 'Score ', 'Disposition'], d.related.map((r) => h('tr', {}, h('td', {}, r.claimId), h('td', {}, r.relation), h('td', {}, pill(r.outcome)), h('td', { class: 'num' }, fmt.score(r.score)), h('td', {}, r.disposition ? fmt.label(r.disposition) : '—')))) : h('p', { class: 'muted' }, 'No other claims of this member or provider.'))),
    h('section', { class: 'card', 'aria-labelledby': 'h-notes' }, h('h2', { id: 'h-notes' }, 'Notes and dispositions'), h('ul', {}, d.notes.map((n) => h('li', {}, h('b', {}, n.userName), ` · ${fmt.time(n.createdAt)}: `, n.body)), d.dispositions.map((x) => h('li', {}, h('b', {}, x.userName), ` · ${fmt.time(x.createdAt)}: `, pill(x.disposition, x.disposition === 'confirmed_fraud' ? 'bad' : 'ok'), ' ', x.note))), noteForm),
    attachmentsCard(c, files.attachments, reload),
    mayAct ? h('section', { class: 'card', 'aria-labelledby': 'h-act' }, h('h2', { id: 'h-act' }, 'Decide'), dispositionForm, snoozeForm) : null,
    reassign ? h('section', { class: 'card' }, h('h2', {}, 'Supervisor'), reassign) : null,
  );
  for (const bar of document.querySelectorAll('.bar')) bar.style.width = `${bar.dataset.width}px`;
}

async function auditCard(params, paged = false) {
  const query = new URLSearchParams({ limit: '25', ...params });
  const audit = await api('GET', `/api/audit?${query}`);
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-audit' },
    h('h2', { id: 'h-audit' }, `Audit trail (${audit.total})`),
    filterForm([['user', 'User'], ['action', 'Action'], ['targetId', 'Target id']], params, (f) => { location.hash = `${location.hash.split('?')[0]}?${new URLSearchParams(f)}`; }),
    table(['When', 'Who', 'Role', 'Action', 'Target', 'From', 'Details'], audit.items.map((a) => h('tr', {}, h('td', { class: 'nowrap' }, fmt.time(a.at)), h('td', {}, a.userName), h('td', {}, a.role), h('td', { class: 'mono nowrap' }, a.action), h('td', { class: 'nowrap' }, a.targetType ? `${a.targetType} ${a.targetId}` : '—'), h('td', { class: 'mono nowrap' }, a.ip || ''), h('td', { class: 'mono' }, JSON.stringify(a.details).slice(0, 120))))),
    // Paged only on the audit page: on the supervisor page `offset` pages the case list.
    paged ? pager({ ...audit, limit: Number(query.get('limit')), offset: Number(query.get('offset') || 0) }, '#/audit', params) : null,
  );
}

async function sealsCard() {
  const { batches } = await api('GET', '/api/audit/batches');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-seals' },
    h('h2', { id: 'h-seals' }, 'Sealed audit batches'),
    batches.length === 0
      ? h('p', { class: 'muted' }, 'Nothing sealed yet: the audit log is sealed into Merkle batches every minute.')
      : table(['Audit ids', 'Entries ', 'Root', 'Status', 'Transaction', ''], batches.map((b) => {
          const cell = h('td', {});
          const verify = async () => {
            try {
              const r = await api('POST', `/api/audit/batches/${b.batchId}/verify`);
              cell.replaceChildren(r.ok ? pill(r.anchored ? 'intact, on chain' : 'intact, not anchored yet', r.anchored ? 'ok' : 'warn') : pill(`${r.code}`, 'bad'));
            } catch (e) {
              flash(e.message, 'error');
            }
          };
          cell.append(h('button', { type: 'button', onclick: verify }, 'Verify'));
          return h('tr', {}, h('td', {}, `${b.first}-${b.last}`), h('td', { class: 'num' }, b.leafCount), h('td', { class: 'mono' }, `${b.root.slice(0, 18)}…`), h('td', {}, pill(b.status, b.status === 'anchored' ? 'ok' : 'warn')), h('td', { class: 'mono' }, b.txHash ? `${b.txHash.slice(0, 18)}…` : '—'), cell);
        })),
  );
}

async function supervisorPage(params) {
  const filters = Object.fromEntries(params);
  const caseFilters = Object.fromEntries(Object.entries(filters).filter(([k]) => ['queue', 'status', 'breached', 'provider', 'member', 'rule', 'from', 'to', 'offset'].includes(k)));
  const [{ queues }, list] = await Promise.all([api('GET', '/api/queues'), api('GET', `/api/cases?${caseQuery({ limit: '25', ...caseFilters })}`)]);
  page(
    'Queues & audit',
    h('div', { class: 'card' }, h('h2', {}, 'Queues'), table(['Queue', 'SLA', 'Open ', 'Assigned ', 'Snoozed ', 'Escalated ', 'Closed ', 'Breached '], queues.map((q) => h('tr', {}, h('td', {}, q.title), h('td', {}, `${q.slaHours} h`), h('td', { class: 'num' }, q.open), h('td', { class: 'num' }, q.assigned), h('td', { class: 'num' }, q.snoozed), h('td', { class: 'num' }, q.escalated), h('td', { class: 'num' }, q.closed), h('td', { class: 'num' }, q.breached ? pill(String(q.breached), 'breached') : '0'))))),
    h('div', { class: 'card' }, h('h2', {}, `Cases (${list.total})`), filterForm([['queue', 'Queue', queues.map((q) => q.name)], ['status', 'Status', STATUSES], ['breached', 'SLA breached', ['true', 'false']], ['provider', 'Provider NPI'], ['member', 'Member'], ['rule', 'Reason code'], ...DATE_FIELDS], caseFilters, (f) => { location.hash = `#/supervisor?${new URLSearchParams(f)}`; }), table([...CASE_HEADERS.slice(0, 7), 'Assignee', 'SLA'], caseRows(list.items, { assignee: true })), pager(list, '#/supervisor', filters)),
    await auditCard(Object.fromEntries(Object.entries(filters).filter(([k]) => ['user', 'action', 'targetId'].includes(k)))),
    await sealsCard(),
  );
}

async function auditPage(params) {
  page('Audit trail', await auditCard(Object.fromEntries(params), true), await sealsCard());
}

async function compliancePage(params) {
  const claimId = params.get('claimId') || '';
  const results = h('div', {});
  const form = h(
    'form',
    { class: 'inline', role: 'search', onsubmit: (event) => { event.preventDefault(); location.hash = `#/compliance?${new URLSearchParams({ claimId: form.querySelector('input').value.trim() })}`; } },
    h('div', {}, h('label', { for: 'claim-search' }, 'Claim id'), h('input', { id: 'claim-search', value: claimId, required: true, size: 28 })),
    h('button', { class: 'primary', type: 'submit' }, 'Find decisions'),
  );
  page('Decision proofs', h('div', { class: 'card' }, form, results));
  if (!claimId) return;
  const { decisions } = await api('GET', `/api/compliance/decisions?${new URLSearchParams({ claimId })}`);
  if (decisions.length === 0) {
    results.replaceChildren(h('p', {}, `No decision for claim ${claimId} (not received, dead-lettered, or its batch has not closed yet).`));
    return;
  }
  results.replaceChildren(
    ...decisions.map((d) => {
      const outcome = h('div', { 'aria-live': 'polite' });
      const verify = async () => {
        outcome.replaceChildren(h('p', { class: 'muted' }, 'Verifying against the chain…'));
        try {
          const r = await api('POST', `/api/compliance/decisions/${d.decisionId}/verify`);
          outcome.replaceChildren(r.ok ? h('div', { class: 'result pass' }, `PASS — decision is in batch ${r.batchId.slice(0, 12)}…, anchored on chain ${r.chainId} at contract ${r.contract}${r.anchorer ? ` by anchorer ${r.anchorer}` : ''} in tx ${r.txHash}, ${r.confirmations} confirmations`) : h('div', { class: 'result fail' }, `FAIL — ${r.code}: ${r.message}`));
        } catch (e) {
          outcome.replaceChildren(h('div', { class: 'result fail' }, e.message));
        }
      };
      return h(
        'section',
        { class: 'card' },
        h('h2', {}, `Decision ${d.decisionId.slice(0, 16)}…`),
        h('dl', { class: 'kv' }, h('dt', {}, 'Claim'), h('dd', {}, d.claimId), h('dt', {}, 'Outcome'), h('dd', {}, pill(d.outcome)), h('dt', {}, 'Score'), h('dd', {}, fmt.score(d.score)), h('dt', {}, 'Decided'), h('dd', {}, fmt.time(d.decidedAt)), h('dt', {}, 'Model'), h('dd', { class: 'mono' }, d.modelHash), h('dt', {}, 'Batch'), h('dd', { class: 'mono' }, d.batchId), h('dt', {}, 'Anchored'), h('dd', {}, d.txHash ? h('span', { class: 'mono' }, `${d.txHash} (block ${d.blockNumber})`) : pill('pending', 'warn'))),
        h('p', {}, h('button', { type: 'button', class: 'primary', onclick: verify }, 'Verify on chain'), ' ', h('a', { class: 'button', href: `/api/compliance/decisions/${d.decisionId}/bundle`, download: `proof-${d.claimId}.json` }, 'Download proof bundle')),
        outcome,
      );
    }),
  );
}

// ---- monitor alerts (compliance, admin) ------------------------------------------------------

/** An SVG element (h() makes HTML elements); attributes only, no inline style (CSP). */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** The subject's PHI accesses per day as bars: explained in blue, unexplained in red on top. */
function timelineChart(days) {
  const width = 1100, height = 90, bar = width / Math.max(1, days.length);
  const max = Math.max(1, ...days.map((d) => d.phi));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + 16}`, width: '100%', role: 'img', 'aria-label': `PHI accesses per day over ${days.length} days, unexplained in red` });
  days.forEach((d, i) => {
    const total = (d.phi / max) * height;
    const bad = (d.unexplained / max) * height;
    const title = svg('title', {}, `${d.day}: ${d.phi} PHI accesses, ${d.unexplained} unexplained, ${d.offHours} off hours`);
    chart.append(svg('rect', { x: i * bar + 1, y: height - total, width: bar - 2, height: total - bad, fill: '#1f5fbf' }, title));
    if (bad > 0) chart.append(svg('rect', { x: i * bar + 1, y: height - bad, width: bar - 2, height: bad, fill: '#b42318' }, title.cloneNode(true)));
  });
  chart.append(svg('text', { x: 0, y: height + 13, 'font-size': 12, fill: '#5d6675' }, days[0] ? days[0].day : ''), svg('text', { x: width, y: height + 13, 'font-size': 12, fill: '#5d6675', 'text-anchor': 'end' }, days.length ? days[days.length - 1].day : ''));
  return chart;
}

const reasonText = (r) => `${r.code}${r.value !== undefined ? ` ${r.value}` : ''}${r.note ? ` (${r.note})` : ''}`;

async function alertsPage(alertId, params) {
  if (alertId) return alertPage(alertId);
  const status = params.get('status') || 'open';
  const list = await api('GET', `/api/compliance/alerts?${new URLSearchParams({ status, limit: '100' })}`);
  const disclosures = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (event) => {
        event.preventDefault();
        const member = form.querySelector('input').value.trim();
        const r = await api('GET', `/api/compliance/disclosures?${new URLSearchParams({ member })}`);
        disclosures.replaceChildren(
          h('p', {}, `${r.disclosures.length} disclosures · `, h('a', { href: `/api/compliance/disclosures?${new URLSearchParams({ member, format: 'csv' })}`, download: 'disclosures.csv' }, 'Download CSV')),
          h('table', {}, h('thead', {}, h('tr', {}, ['When', 'User', 'Role', 'Action', 'Case', 'Explanation'].map((t) => h('th', {}, t)))),
            h('tbody', {}, r.disclosures.map((d) => h('tr', {}, h('td', { class: 'nowrap' }, fmt.time(d.at)), h('td', {}, d.userName), h('td', {}, d.role), h('td', {}, d.action), h('td', {}, d.caseId || '—'), h('td', {}, d.explanation ? d.explanation : pill('unexplained', 'bad')))))),
        );
      },
    },
    h('div', {}, h('label', { for: 'member-id' }, 'Member id'), h('input', { id: 'member-id', required: true, size: 20 })),
    h('button', { class: 'primary', type: 'submit' }, 'Accounting of disclosures'),
  );
  page(
    'Monitor alerts',
    h('p', {}, h('a', { href: '#/alerts?status=open' }, 'Open'), ' · ', h('a', { href: '#/alerts?status=closed' }, 'Closed')),
    h('div', { class: 'card' }, list.items.length === 0 ? h('p', { class: 'muted' }, 'No alerts.') : h('table', {},
      h('thead', {}, h('tr', {}, ['Raised', 'Kind', 'Severity', 'About', 'Score', 'Reasons', 'Status'].map((t) => h('th', {}, t)))),
      h('tbody', {}, list.items.map((a) => h('tr', { class: 'row-link', onclick: () => { location.hash = `#/alerts/${a.alertId}`; } },
        h('td', { class: 'nowrap' }, h('a', { href: `#/alerts/${a.alertId}` }, fmt.time(a.createdAt))), h('td', {}, a.kind), h('td', {}, pill(a.severity, a.severity === 'high' ? 'bad' : 'warn')),
        h('td', {}, a.subject ? `${a.subject.name} (${a.subject.role})${a.day ? ` · ${a.day}` : ''}` : 'chain'), h('td', { class: 'num' }, a.score === null ? '—' : fmt.score(a.score)),
        h('td', {}, a.reasons.map((r) => r.code).join(', ')), h('td', {}, pill(a.status, a.status === 'policy_violation' ? 'bad' : a.status === 'benign' ? 'ok' : 'warn'))))))),
    h('div', { class: 'card' }, h('h2', {}, 'Accounting of disclosures'), form, disclosures),
  );
}

async function alertPage(alertId) {
  const detail = await api('GET', `/api/compliance/alerts/${alertId}`);
  const a = detail.alert;
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new window.FormData(form);
        try {
          await api('POST', `/api/compliance/alerts/${alertId}/disposition`, { disposition: data.get('disposition'), note: data.get('note') });
          flash('Disposition recorded');
          await alertPage(alertId);
        } catch (e) {
          flash(e.message, 'error');
        }
      },
    },
    h('fieldset', {}, h('legend', {}, 'Disposition'), ['benign', 'policy_violation', 'needs_review'].map((d) => h('label', {}, h('input', { type: 'radio', name: 'disposition', value: d, required: true }), fmt.label(d)))),
    h('label', { for: 'alert-note' }, 'Note (required)'), h('textarea', { id: 'alert-note', name: 'note', required: true }),
    h('p', {}, h('button', { class: 'primary', type: 'submit' }, 'Record disposition')),
  );
  page(
    `Alert ${a.alertId}`,
    h('section', { class: 'card' },
      h('dl', { class: 'kv' }, h('dt', {}, 'Kind'), h('dd', {}, a.kind), h('dt', {}, 'Severity'), h('dd', {}, pill(a.severity, a.severity === 'high' ? 'bad' : 'warn')),
        h('dt', {}, 'About'), h('dd', {}, a.subject ? `${a.subject.name} (${a.subject.role})` : 'the anchoring contract / our signer'), h('dt', {}, 'Day'), h('dd', {}, a.day || '—'),
        h('dt', {}, 'Score'), h('dd', {}, a.score === null ? '—' : fmt.score(a.score)), h('dt', {}, 'Status'), h('dd', {}, pill(a.status))),
      h('h2', {}, 'Reasons'), h('ul', {}, a.reasons.map((r) => h('li', {}, reasonText(r)))),
      detail.timeline.length ? [h('h2', {}, 'PHI accesses per day (unexplained in red)'), timelineChart(detail.timeline)] : null,
      h('h2', {}, 'Evidence'), h('pre', { class: 'mono' }, JSON.stringify(a.evidence, null, 2))),
    h('section', { class: 'card' }, h('h2', {}, 'Dispositions'),
      detail.dispositions.length ? h('ul', {}, detail.dispositions.map((d) => h('li', {}, `${fmt.time(d.createdAt)} · ${d.userName}: ${fmt.label(d.disposition)} — ${d.note}`))) : h('p', { class: 'muted' }, 'None yet.'),
      a.status === 'open' || a.status === 'needs_review' ? form : null),
  );
}

async function adminPage() {
  const { users } = await api('GET', '/api/admin/users');
  const secret = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new window.FormData(form);
        try {
          const created = await api('POST', '/api/admin/users', { name: data.get('name'), role: data.get('role'), service: data.get('service') === 'on' });
          // A person gets a password to hand over; only a service user gets a token (an admin never holds a person's token).
          secret.replaceChildren(
            h(
              'div',
              { class: 'secret' },
              h('p', {}, `Created ${created.user.service ? 'service user' : created.user.role} ${created.user.name}. Shown only now:`),
              created.password ? h('p', {}, 'Password ', h('code', { class: 'mono', id: 'new-password' }, created.password)) : null,
              created.token ? h('p', {}, 'API token ', h('code', { class: 'mono', id: 'new-token' }, created.token)) : null,
            ),
          );
        } catch (e) {
          flash(e.message, 'error');
        }
      },
    },
    h('div', {}, h('label', { for: 'new-name' }, 'Name'), h('input', { id: 'new-name', name: 'name', required: true })),
    h('div', {}, h('label', { for: 'new-role' }, 'Role'), h('select', { id: 'new-role', name: 'role' }, ['investigator', 'supervisor', 'compliance', 'admin'].map((r) => h('option', { value: r }, r)))),
    h('div', {}, h('label', { for: 'new-service' }, 'Service user (token only)'), h('input', { id: 'new-service', name: 'service', type: 'checkbox' })),
    h('button', { class: 'primary', type: 'submit' }, 'Create user'),
  );
  const toggle = (u) =>
    u.userId === state.me.userId
      ? '—'
      : h('button', {
          type: 'button',
          onclick: async () => {
            try {
              await api('POST', `/api/admin/users/${u.userId}/${u.disabled ? 'enable' : 'disable'}`);
              await adminPage();
            } catch (e) {
              flash(e.message, 'error');
            }
          },
        }, u.disabled ? `Enable ${u.name}` : `Disable ${u.name}`);
  page(
    'Users',
    h('div', { class: 'card' }, h('h2', {}, 'New user'), form, secret),
    h('div', { class: 'card' }, table(['Id', 'Name', 'Role', 'Kind', 'State', ''], users.map((u) => h('tr', {}, h('td', {}, u.userId), h('td', {}, u.name), h('td', {}, u.role), h('td', {}, u.service ? 'service' : 'person'), h('td', {}, u.disabled ? pill('disabled', 'warn') : 'active'), h('td', {}, toggle(u)))))),
  );
}

// ---- router --------------------------------------------------------------------------------

function showError(e) {
  if (e.status === 401) return;
  page(e.status === 403 ? 'Not allowed' : 'Something went wrong', h('p', { role: 'alert' }, e.message), h('p', {}, h('a', { href: HOME[state.me ? state.me.role : 'investigator'] || '#/login' }, 'Back')));
}

async function route() {
  const [path, queryString] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(queryString || '');
  if (!state.me && path !== '/login') {
    try {
      state.me = await api('GET', '/api/me');
    } catch {
      return;
    }
  }
  renderChrome();
  if (path === '/login' || !state.me) return loginPage();
  const parts = (path || '').split('/').filter(Boolean);
  const allowed = PAGES[state.me.role];
  if (parts[0] && !allowed.includes(parts[0])) {
    showError(Object.assign(new Error(`#/${parts[0]} is not open to the ${state.me.role} role`), { status: 403 }));
    return;
  }
  try {
    if (parts[0] === 'work') await workPage(params);
    else if (parts[0] === 'case' && parts[1]) await casePage(parts[1]);
    else if (parts[0] === 'supervisor') await supervisorPage(params);
    else if (parts[0] === 'audit') await auditPage(params);
    else if (parts[0] === 'compliance') await compliancePage(params);
    else if (parts[0] === 'alerts') await alertsPage(parts[1], params);
    else if (parts[0] === 'admin') await adminPage();
    else location.hash = HOME[state.me.role];
  } catch (e) {
    showError(e);
  }
}

document.addEventListener('keydown', (event) => {
  const tag = event.target && event.target.tagName;
  if (event.ctrlKey || event.metaKey || event.altKey || ['INPUT', 'TEXTAREA', 'SELECT'].includes(tag)) return;
  if (event.key === 'n' || event.key === 'N') {
    const button = document.getElementById('take-next');
    if (button) {
      event.preventDefault();
      button.click();
    }
  } else if (event.key === '/') {
    const field = document.querySelector('main form input');
    if (field) {
      event.preventDefault();
      field.focus();
    }
  } else if (event.key === 'Escape' && location.hash.startsWith('#/case/')) {
    location.hash = state.me && state.me.role === 'supervisor' ? '#/supervisor' : '#/work';
  }
});
window.addEventListener('hashchange', route);
route();
