// The training room's pages (ruralgov room): one script for the join page, a head's phone,
// the projector and the trainer's console. R (set by the page) holds the words in the page's
// language, the levers' names, the page's kind and its language. Every page polls the room's
// JSON API every two seconds; nothing here decides anything the server does not check.
const $ = s => document.querySelector(s), W = R.words, app = $('#app');
const esc = s => String(s).replace(/[&<>"']/g, c => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));

// the language switch keeps the page's other parameters and its fragment (the room's code,
// the trainer's key)
{
  const a = document.querySelector('a.lang');
  if (a) {
    const q = new URLSearchParams(location.search);
    q.set('lang', new URLSearchParams(a.getAttribute('href').slice(1)).get('lang'));
    a.href = '?' + q + location.hash;
  }
}

async function call(path, opts = {}) {
  const h = {'Content-Type': 'application/json'};
  const tok = localStorage.getItem('ruralgov-room-token');
  if (tok) h['X-Token'] = tok;
  const key = location.hash.slice(1);
  if (key) h['X-Key'] = key;
  const r = await fetch(path, {...opts, headers: h});
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.status);
  return j;
}

function fmt(v) { return typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : esc(v); }

function table(rows, cols) {
  if (!rows.length) return '';
  const head = cols.map(c => '<th>' + esc(W[c[1]] || c[1]) + '</th>').join('');
  const body = rows.map(r => '<tr>' + cols.map(
    c => '<td>' + (r[c[0]] === undefined ? '—' : fmt(r[c[0]])) + '</td>').join('') + '</tr>');
  return '<table><tr>' + head + '</tr>' + body.join('') + '</table>';
}

const TCOLS = [['round', 'round'], ['reported_compliance', 'reported'],
  ['true_compliance', 'true'], ['escalations', 'escalations'], ['cases_handled', 'handled'],
  ['pressure', 'pressure'], ['protesters', 'protesters'], ['legitimacy', 'legitimacy']];

function every(f) { f(); setInterval(f, 2000); }

const pages = {};

pages.join = () => {
  const code = new URLSearchParams(location.search).get('code') || '';
  app.innerHTML = '<p>' + esc(W.code) + ' <input id="code" value="' + esc(code) +
    '" autocapitalize="characters"></p><p>' + esc(W.name) +
    ' <input id="name" maxlength="40"></p><button id="go">' + esc(W.join) +
    '</button><p id="err" class="err"></p>';
  $('#go').onclick = async () => {
    try {
      const j = await call('/api/join', {method: 'POST',
        body: JSON.stringify({code: $('#code').value, name: $('#name').value})});
      localStorage.setItem('ruralgov-room-token', j.token);
      location.href = '/play?lang=' + R.lang;
    } catch (e) { $('#err').textContent = e.message; }
  };
  // a phone that already joined goes back to its township (a dropped connection)
  if (localStorage.getItem('ruralgov-room-token') && !code)
    call('/api/view').then(() => location.href = '/play?lang=' + R.lang).catch(() => {});
};

function sliders(v) {
  return R.order.map(k => {
    const [lo, hi] = v.ranges[k];
    return '<p><b>' + esc(R.levers[k].name) + '</b> <output id="o-' + k + '">' +
      v.levers[k].toFixed(2) + '</output><br><span class="note">' + esc(R.levers[k].what) +
      '</span><br><input type="range" id="l-' + k + '" min="' + lo + '" max="' + hi +
      '" step="0.05" value="' + v.levers[k] + '"></p>';
  }).join('');
}

async function send() {
  const levers = {};
  R.order.forEach(k => levers[k] = Number($('#l-' + k).value));
  try {
    await call('/api/submit', {method: 'POST', body: JSON.stringify({levers})});
    $('#err').textContent = '';
  } catch (e) { $('#err').textContent = e.message; }
}

pages.play = () => {
  let built = false, shown = -1;  // the sliders are set afresh only when a new round opens
  every(async () => {
    let v;
    try { v = await call('/api/view'); } catch (e) {
      app.innerHTML = '<p class="err">' + esc(e.message) + '</p><a href="/">' +
        esc(W.join) + '</a>';
      return;
    }
    if (!built) {
      app.innerHTML = '<p id="head"></p><div id="levers"></div><button id="send">' +
        esc(W.submit) + '</button><p id="err" class="err"></p><p id="msg"></p><h2>' +
        esc(W.your_numbers) + '</h2><div id="own"></div><div id="others"></div>';
      $('#send').onclick = send;
      $('#levers').oninput = e => {
        const k = e.target.id.slice(2);
        $('#o-' + k).textContent = Number(e.target.value).toFixed(2);
      };
      built = true;
    }
    if (v.round !== shown) { $('#levers').innerHTML = sliders(v); shown = v.round; }
    $('#head').textContent = v.name + ' · ' + W.township + ' ' + (v.township + 1) + ' · ' +
      W.round + ' ' + (v.round + 1) + '/' + v.rounds + ' · ' + (W[v.state] || v.state) +
      (v.seconds_left != null ? ' · ' + Math.ceil(v.seconds_left) + W.seconds : '') +
      (v.submitted ? ' · ' + W.submitted : '');
    $('#send').disabled = v.state !== 'choosing';
    $('#msg').innerHTML = v.messages.map(m => '<b>' + esc(m) + '</b>').join('<br>');
    $('#own').innerHTML = table(v.own, TCOLS);
    $('#others').innerHTML = (v.others || []).map((rows, k) =>
      '<h3>' + esc(W.township) + ' ' + (k + 1) + '</h3>' + table(rows, TCOLS)).join('');
  });
};

pages.projector = () => every(async () => {
  const v = await call('/api/public');
  app.innerHTML = '<p>' + esc(W.join_here) + ' <b>' + esc(location.origin) +
    '</b></p><p class="big">' + esc(v.code) + '</p><img src="/qr.svg" width="240" alt="QR">' +
    '<p>' + esc(W.round) + ' ' + v.round + '/' + v.rounds + ' · ' + esc(W[v.state] || v.state) +
    (v.seconds_left != null ? ' · ' + Math.ceil(v.seconds_left) + esc(W.seconds) : '') +
    ' · ' + esc(W.waiting) + ': ' + v.waiting + '</p><h2>' + esc(W.county) + '</h2>' +
    table(v.county, [['round', 'round'], ['compliance_reported', 'reported'],
      ['compliance', 'true'], ['petitions_escalated', 'escalations'],
      ['protest_episodes', 'episodes'], ['legitimacy', 'legitimacy']]);
});

async function act(body) {
  try {
    await call('/api/trainer', {method: 'POST', body: JSON.stringify(body)});
    $('#err').textContent = '';
  } catch (e) { $('#err').textContent = e.message; }
}

function button(label, body) {
  return '<button data-act="' + esc(JSON.stringify(body)) + '">' + esc(label) + '</button>';
}

pages.console = () => {
  const key = location.hash.slice(1);
  app.innerHTML = '<p>' + ['start', 'pause', 'resume', 'advance'].map(
      a => button(W[a], {action: a})).join('') + '</p><p>' +
    R.events.map(e => button(W[e], {action: 'trigger', event: e})).join('') + '</p><p>' +
    ['truth', 'others'].map(v => '<label><input type="checkbox" data-view="' + v + '"> ' +
      esc(W[v]) + '</label> ').join('') + '</p><p><input id="text" maxlength="280"> ' +
    '<button id="say">' + esc(W.broadcast) + '</button></p><p><a id="replay">' +
    esc(W.replay) + '</a> · <a id="debrief">' + esc(W.debrief) + '</a></p>' +
    '<p id="err" class="err"></p><div id="state"></div>';
  app.onclick = e => { if (e.target.dataset.act) act(JSON.parse(e.target.dataset.act)); };
  app.onchange = e => {
    if (e.target.dataset.view)
      act({action: 'reveal', view: e.target.dataset.view, on: e.target.checked});
  };
  $('#say').onclick = () => act({action: 'broadcast', text: $('#text').value});
  $('#replay').href = '/api/replay.yaml?key=' + encodeURIComponent(key);
  $('#debrief').href = '/debrief?lang=' + R.lang + '&key=' + encodeURIComponent(key);
  every(async () => {
    const v = await call('/api/console');
    const rows = v.participants.map(p => '<tr><td>' + esc(p.name) + '</td><td>' +
      esc(W.township) + ' ' + (p.township + 1) + '</td><td>' + (p.submitted ? '✓' : '') +
      '</td><td>' + p.seen_s_ago + 's</td><td>' +
      (p.removed ? '—' : button(W.remove, {action: 'remove', name: p.name})) + '</td></tr>');
    $('#state').innerHTML = '<p>' + esc(W.code) + ' <b>' + esc(v.code) + '</b> · ' +
      esc(W.round) + ' ' + v.round + '/' + v.rounds + ' · ' + esc(W[v.state] || v.state) +
      ' · ' + esc(W.waiting) + ': ' + esc(v.waiting_for.join(', ')) + '</p><h2>' +
      esc(W.participants) + '</h2><table>' + rows.join('') + '</table><h2>' + esc(W.log) +
      '</h2><p class="note">' + v.log.map(e => esc(e.kind + ' ' + e.who)).join('<br>') + '</p>';
  });
};

pages[R.kind]();
