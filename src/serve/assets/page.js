// The search page of `genir serve`: one query, three rankings (GenIR, BM25, hybrid) side by
// side, and the GenIR beam step by step. Plain DOM, no libraries, no requests beyond this server.
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);
const form = $('#search');
const input = $('#query');
const message = $('#message');
const languageLine = $('#language');
const MODES = ['genir', 'bm25', 'hybrid'];
let maxQueryChars = 4096;
let crossLingual = false;
let generation = 0;

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function say(text, isError = false) {
  message.textContent = text;
  message.classList.toggle('error', isError);
}

async function loadModelInfo() {
  for (;;) {
    const response = await fetch('/health');
    const health = await response.json();
    if (health.status === 'ok') {
      maxQueryChars = health.limits.max_query_chars;
      crossLingual = health.languages.length > 1;
      const languages = health.languages.length > 0 ? `; languages ${health.languages.join(', ')}` : '';
      $('#model').textContent =
        `${health.model}: ${health.documents} documents, ${health.docids} docids${languages}${health.text ? '' : ' (no document text: titles only)'}`;
      return;
    }
    if (health.status === 'failed') {
      $('#model').textContent = `The model failed to load: ${health.error}`;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function score(value, mode) {
  return mode === 'hybrid' ? value.toFixed(4) : value.toFixed(3);
}

function hitItem(hit, mode) {
  const title = element(
    'a',
    { className: 'title', href: `/documents/${encodeURIComponent(hit.doc_id)}`, 'data-doc': hit.doc_id },
    hit.title || hit.doc_id,
  );
  const facts = [`${mode === 'genir' ? 'log p' : mode === 'bm25' ? 'BM25' : 'RRF'} ${score(hit.score, mode)}`, `id ${hit.doc_id}`];
  const factLine = element('div', { className: 'facts' }, facts.join(' · '));
  if (mode === 'genir') factLine.append(' · docid ', element('code', {}, hit.docid));
  if (mode === 'hybrid') factLine.append(` · GenIR #${hit.genir_rank ?? '–'}, BM25 #${hit.bm25_rank ?? '–'}`);
  return element('li', {}, title, hit.snippet ? element('p', { className: 'snippet' }, hit.snippet) : null, factLine);
}

function showColumn(mode, result) {
  const column = $(`#col-${mode}`);
  const list = $('.hits', column);
  list.replaceChildren(...result.hits.map((hit) => hitItem(hit, mode)));
  $('.meta', column).textContent =
    result.hits.length === 0 ? 'No documents.' : `${result.hits.length} documents in ${result.took_ms.toFixed(1)} ms`;
}

function showColumnError(mode, text) {
  const column = $(`#col-${mode}`);
  $('.hits', column).replaceChildren();
  $('.meta', column).textContent = text;
}

function prefixItem(prefix, kind) {
  const label = kind === 'finished' ? `${prefix.docid} → ${prefix.doc_id}` : prefix.docid;
  return element(
    'li',
    { className: kind, title: `${kind}, log p ${prefix.score.toFixed(3)}` },
    element('code', {}, label || '∅'),
    ` ${prefix.score.toFixed(2)}`,
  );
}

function showBeam(steps) {
  const target = $('#beam-steps');
  if (!steps || steps.length === 0) {
    target.replaceChildren(element('p', { className: 'muted' }, 'No beam steps.'));
    return;
  }
  target.replaceChildren(
    element(
      'p',
      { className: 'muted small' },
      'Per decoder step: prefixes kept (green), docids finished (blue), the best pruned prefixes (red). Scores are log-probabilities.',
    ),
    ...steps.map((step) => {
      const parts = [
        element('h3', {}, `Step ${step.step}: ${step.kept.length} kept, ${step.finished.length} finished, ${step.pruned_count} pruned`),
      ];
      const items = [
        ...step.kept.map((p) => prefixItem(p, 'kept')),
        ...step.finished.map((p) => prefixItem(p, 'finished')),
        ...step.pruned.map((p) => prefixItem(p, 'pruned')),
      ];
      parts.push(element('ul', {}, ...items));
      return element('div', { className: 'step' }, ...parts);
    }),
  );
}

async function searchMode(mode, query, beam, k) {
  const body = { query, mode, beam, k: mode === 'genir' ? Math.min(k, beam) : k, trace: mode === 'genir' };
  const response = await fetch('/search', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await response.json();
  if (!response.ok) throw new Error(json.error || `HTTP ${response.status}`);
  return json;
}

async function search(event) {
  event?.preventDefault();
  const query = input.value.trim();
  if (query === '') {
    say('Type a query to search.', true);
    return;
  }
  if (query.length > maxQueryChars) {
    say(`The query is ${query.length} characters; at most ${maxQueryChars} are accepted.`, true);
    return;
  }
  const mine = ++generation;
  const beam = Number($('#beam').value);
  const k = Number($('#k').value);
  say('Searching…');
  const params = new URLSearchParams({ q: query });
  history.replaceState(null, '', `?${params}`);
  const outcomes = await Promise.allSettled(MODES.map((mode) => searchMode(mode, query, beam, k)));
  if (mine !== generation) return;
  let failures = 0;
  outcomes.forEach((outcome, i) => {
    const mode = MODES[i];
    if (outcome.status === 'fulfilled') {
      showColumn(mode, outcome.value);
      if (mode === 'genir') showBeam(outcome.value.beam_trace);
      if (mode === 'bm25') {
        const language = outcome.value.language;
        languageLine.hidden = !(crossLingual && language);
        if (language) languageLine.textContent = `Query language: ${language.code} (${language.source})`;
      }
    } else {
      failures++;
      showColumnError(mode, outcome.reason.message);
    }
  });
  if (failures === MODES.length) say(outcomes[0].reason.message, true);
  else say(failures > 0 ? `${failures} of ${MODES.length} searches failed.` : '', failures > 0);
}

async function openDocument(id) {
  const dialog = $('#document');
  const response = await fetch(`/documents/${encodeURIComponent(id)}`);
  const doc = await response.json();
  if (!response.ok) {
    say(doc.error, true);
    return;
  }
  $('#doc-title').textContent = doc.title || doc.doc_id;
  $('#doc-meta').textContent =
    `id ${doc.doc_id} · docid ${doc.docid}${doc.lang ? ` · ${doc.lang}` : ''}${doc.versions.length > 1 ? ` · ${doc.versions.length} translations` : ''}`;
  $('#doc-text').textContent = doc.text ?? '(no text available)';
  dialog.showModal();
}

form.addEventListener('submit', search);
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-doc]');
  if (link === null || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  void openDocument(link.dataset.doc);
});
document.addEventListener('keydown', (event) => {
  if (event.key === '/' && document.activeElement !== input && !$('#document').open) {
    event.preventDefault();
    input.focus();
    input.select();
  }
});

void loadModelInfo().then(() => {
  const q = new URLSearchParams(location.search).get('q');
  if (q) {
    input.value = q;
    void search();
  }
});
