// Search over the inline pack index of search/index.html: every word of the
// query must appear (case-insensitive) in a pack's name, display name,
// description, layer, add-on type or versions. The page lists every pack
// without JavaScript; this script narrows the list as you type.
// A classic deferred script, not a module: Chromium refuses module scripts
// on file:// pages, and the site must work opened from disk.
(function () {
  'use strict';

  var data = document.getElementById('search-index');
  var input = document.getElementById('search-q');
  var list = document.getElementById('search-results');
  var count = document.getElementById('search-count');
  if (!data || !input || !list) return;

  var root = data.getAttribute('data-root') || '';
  var packs = JSON.parse(data.textContent).map(function (p) {
    var text = [p.name, p.display_name, p.description || '', p.layer, p.layer_name,
      p.addon_type || '', p.versions.join(' ')].join('\n').toLowerCase();
    return { pack: p, text: text };
  });

  function words(q) {
    return q.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function matches(entry, ws) {
    return ws.every(function (w) { return entry.text.indexOf(w) !== -1; });
  }

  function item(p) {
    var li = document.createElement('li');
    var a = document.createElement('a');
    a.href = root + p.page;
    a.textContent = p.display_name;
    var small = document.createElement('small');
    small.textContent = p.name + ' · ' + p.layer_name + ' · ' + p.versions.join(', ');
    li.append(a, ' ', small);
    if (p.description) {
      li.append(document.createElement('br'), p.description);
    }
    return li;
  }

  function show(q) {
    var ws = words(q);
    var hits = packs.filter(function (e) { return matches(e, ws); });
    var items = document.createDocumentFragment();
    hits.forEach(function (e) { items.append(item(e.pack)); });
    list.replaceChildren(items);
    if (count) {
      count.textContent = ws.length === 0
        ? packs.length + ' packs, A–Z.'
        : hits.length + (hits.length === 1 ? ' pack matches' : ' packs match') + ' “' + q.trim() + '”.';
    }
  }

  // Keep ?q= in the address so the result can be shared or reloaded.
  function remember(q) {
    var url = new URL(location.href);
    if (q) url.searchParams.set('q', q); else url.searchParams.delete('q');
    try { history.replaceState(null, '', url.href); } catch (e) { /* some file:// setups refuse */ }
  }

  var q = new URLSearchParams(location.search).get('q') || '';
  input.value = q;
  var header = document.getElementById('site-q');
  if (header) header.value = q;
  show(q);
  input.addEventListener('input', function () {
    show(input.value);
    remember(input.value.trim());
  });
  input.form.addEventListener('submit', function (ev) {
    ev.preventDefault(); // the list is already filtered
    show(input.value);
    remember(input.value.trim());
  });
})();
