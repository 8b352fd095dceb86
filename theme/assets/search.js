// Search over the inline pack index of search/index.html. The page lists
// every pack without JavaScript; this script narrows the list as you type.
// - Case, spaces and punctuation do not matter: "PXKe", "pxk-e" and "PXK-E"
//   are one word, and "local path" and "localpath" both find "Local Path
//   Provisioner" (each word must appear in the name, display name,
//   description, layer or add-on type).
// - Facet words (fips, non-fips, an arch, a product, cloud or layer id) are
//   not matched as text: they narrow results to the versions they describe.
// - A word that looks like a version ("1.33", "v1.33.5") keeps the versions
//   it begins, unless the pack's text holds it.
// - Results rank exact names first, then names that begin with the query,
//   then names that hold it, then the rest; A–Z within each.
// - A search with no result says what is near: the facet or text words
//   alone, and the closest names by edit distance.
// Each shown version has the same "+ selection" toggle as browse pages,
// kept by picks.js. A classic deferred script, not a module: Chromium
// refuses module scripts on file:// pages, and the site must work opened
// from disk.
(function () {
  'use strict';

  var data = document.getElementById('search-index');
  var input = document.getElementById('search-q');
  var list = document.getElementById('search-results');
  var count = document.getElementById('search-count');
  var nearby = document.getElementById('search-nearby');
  var summary = document.getElementById('pick-summary');
  if (!data || !input || !list) return;
  var picks = (window.packstudio || {}).picks;

  var root = data.getAttribute('data-root') || '';
  var index = JSON.parse(data.textContent);

  // compact folds case and drops everything but letters and digits.
  function compact(s) {
    return String(s || '').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  }

  // The facet words, by their compact form.
  var facetWords = Object.create(null);
  index.facets.forEach(function (f, i) {
    if (f[0] === 'fips') facetWords.fips = { kind: 'fips', value: true };
    else facetWords[compact(f[1])] = { kind: f[0], value: i };
  });
  facetWords.nonfips = { kind: 'fips', value: false };
  var fipsAt = index.facets.findIndex(function (f) { return f[0] === 'fips'; });
  var layerNames = Object.create(null);
  index.layers.forEach(function (l) {
    layerNames[l[0]] = l[1];
    facetWords[compact(l[0])] = { kind: 'layer', value: l[0] };
  });
  // Other names people use for the two usual architectures.
  [['x8664', 'amd64'], ['aarch64', 'arm64']].forEach(function (a) {
    if (facetWords[a[1]] && !facetWords[a[0]]) facetWords[a[0]] = facetWords[a[1]];
  });

  var entries = index.packs.map(function (p) {
    var names = [p.name, p.display_name, p.display_name.replace(/\([^)]*\)/g, '')];
    (p.display_name.match(/\(([^)]*)\)/g) || []).forEach(function (m) { names.push(m); });
    return {
      pack: p,
      text: [p.name, p.display_name, p.description, p.layer, layerNames[p.layer], p.addon_type].map(compact).join('\n'),
      names: names.map(compact).filter(Boolean),
      versions: p.versions.map(function (v) { return { version: v[0], facets: v[1] }; })
    };
  });

  // parse splits a query into text words, version words and facets.
  function parse(q) {
    var qp = { text: [], versions: [], facetWords: [], product: [], cloud: [], arch: [], fips: [], layer: [] };
    q.toLowerCase().replace(/\bnon[\s_-]+fips\b/g, 'nonfips').split(/[\s,;]+/).forEach(function (raw) {
      var w = compact(raw);
      if (!w) return;
      var f = facetWords[w];
      if (f) {
        qp[f.kind].push(f.value);
        qp.facetWords.push(raw);
      } else if (/^v?\d+(\.\d+)*\.?$/.test(raw)) {
        qp.versions.push(raw.replace(/^v/, ''));
      } else {
        qp.text.push(w);
      }
    });
    return qp;
  }

  function isEmpty(qp) {
    return !qp.text.length && !qp.versions.length && !qp.facetWords.length;
  }

  function hasAny(v, wanted) {
    return !wanted.length || wanted.some(function (i) { return v.facets.indexOf(i) >= 0; });
  }

  function facetsHold(v, qp) {
    if (!hasAny(v, qp.product) || !hasAny(v, qp.cloud) || !hasAny(v, qp.arch)) return false;
    var fipsWanted = qp.fips.indexOf(true) >= 0, nonWanted = qp.fips.indexOf(false) >= 0;
    if (fipsWanted === nonWanted) return true; // neither or both
    return (v.facets.indexOf(fipsAt) >= 0) === fipsWanted;
  }

  // rank: 0 an exact name, 1 a name beginning with the query's text, 2 a
  // name holding it, 3 the rest.
  function rank(e, t) {
    if (!t) return 0;
    var best = 3;
    e.names.forEach(function (n) {
      if (n === t) best = 0;
      else if (n.indexOf(t) === 0) best = Math.min(best, 1);
      else if (n.indexOf(t) > 0) best = Math.min(best, 2);
    });
    return best;
  }

  function lower(e) { return e.pack.display_name.toLowerCase(); }

  function search(qp) {
    var t = qp.text.join('');
    var hits = [];
    entries.forEach(function (e) {
      if (qp.layer.length && qp.layer.indexOf(e.pack.layer) < 0) return;
      if (!qp.text.every(function (w) { return e.text.indexOf(w) >= 0; })) return;
      var narrowing = qp.versions.filter(function (w) { return e.text.indexOf(compact(w)) < 0; });
      var vs = e.versions.filter(function (v) {
        return facetsHold(v, qp) && narrowing.every(function (w) { return v.version.indexOf(w) === 0; });
      });
      if (vs.length) hits.push({ entry: e, versions: vs, rank: rank(e, t) });
    });
    hits.sort(function (a, b) {
      var la = lower(a.entry), lb = lower(b.entry);
      return a.rank - b.rank || (la < lb ? -1 : la > lb ? 1 : 0) ||
        (a.entry.pack.name < b.entry.pack.name ? -1 : a.entry.pack.name > b.entry.pack.name ? 1 : 0);
    });
    return hits;
  }

  // facts is a version's facets as the page without JavaScript shows them.
  function facts(v) {
    var fips = 'non-FIPS', arch = [], products = [];
    v.facets.forEach(function (i) {
      var f = index.facets[i];
      if (f[0] === 'fips') fips = 'FIPS';
      else if (f[0] === 'arch') arch.push(f[1]);
      else if (f[0] === 'product') products.push(f[2]);
    });
    var out = [fips, arch.join(', ')];
    if (products.length) out.push(products.join(', '));
    return out.join(' · ');
  }

  function packHref(name) { return root + 'packs/' + name + '/index.html'; }

  function item(hit) {
    var p = hit.entry.pack;
    var li = document.createElement('li');
    var a = document.createElement('a');
    a.href = packHref(p.name);
    a.textContent = p.display_name;
    var small = document.createElement('small');
    small.textContent = p.name + ' · ' + (layerNames[p.layer] || p.layer) + (p.addon_type ? ' · ' + p.addon_type : '');
    li.append(a, ' ', small);
    if (p.description) li.append(document.createElement('br'), p.description);
    var ul = document.createElement('ul');
    ul.className = 'hit-versions';
    hit.versions.forEach(function (v) {
      var vli = document.createElement('li');
      var span = document.createElement('span');
      span.className = 'v';
      span.textContent = v.version;
      var f = document.createElement('small');
      f.textContent = facts(v);
      vli.append(span, ' ', f);
      if (picks) {
        var id = p.name + '@' + v.version;
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'pick';
        b.dataset.add = id;
        b.setAttribute('aria-label', 'selection: ' + id);
        vli.append(' ', b);
      }
      ul.append(vli);
    });
    li.append(ul);
    return li;
  }

  // Edit distance, for the closest names when nothing matches.
  function distance(a, b) {
    var prev = [], cur, i, j;
    for (j = 0; j <= b.length; j++) prev.push(j);
    for (i = 1; i <= a.length; i++) {
      cur = [i];
      for (j = 1; j <= b.length; j++) {
        cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
      }
      prev = cur;
    }
    return prev[b.length];
  }

  function closest(t) {
    if (t.length < 3) return [];
    var limit = Math.max(1, Math.floor(t.length / 3));
    var near = [];
    entries.forEach(function (e) {
      var d = Infinity;
      e.names.forEach(function (n) {
        d = Math.min(d, distance(t, n), distance(t, n.slice(0, t.length)));
      });
      if (d <= limit) near.push({ entry: e, d: d });
    });
    near.sort(function (a, b) {
      return a.d - b.d || (lower(a.entry) < lower(b.entry) ? -1 : 1);
    });
    return near.slice(0, 5).map(function (n) { return n.entry.pack; });
  }

  function searchLink(q, text) {
    var a = document.createElement('a');
    a.href = 'index.html?q=' + encodeURIComponent(q);
    a.textContent = text;
    return a;
  }

  // suggest fills #search-nearby for a query with no result.
  function suggest(qp) {
    var parts = [];
    var words = qp.text.concat(qp.versions);
    if (qp.facetWords.length && words.length) {
      var onlyFacets = parse(qp.facetWords.join(' '));
      var n = search(onlyFacets).length;
      if (n) parts.push([searchLink(qp.facetWords.join(' '), '“' + qp.facetWords.join(' ') + '” alone'), ' finds ' + n + (n === 1 ? ' pack' : ' packs')]);
      var textQ = words.join(' ');
      var m = search(parse(textQ)).length;
      if (m) parts.push([searchLink(textQ, '“' + textQ + '” alone'), ' finds ' + m + (m === 1 ? ' pack' : ' packs') + ', none of them ' + qp.facetWords.join(' ')]);
    }
    var names = closest(qp.text.join(''));
    if (names.length) {
      var line = ['Closest names: '];
      names.forEach(function (p, i) {
        var a = document.createElement('a');
        a.href = packHref(p.name);
        a.textContent = p.display_name;
        if (i) line.push(', ');
        line.push(a);
      });
      parts.push(line);
    }
    if (!parts.length) parts.push(['Try fewer or shorter words, or ', searchLink('', 'list every pack'), '.']);
    var out = ['Nothing matches. '];
    parts.forEach(function (p, i) {
      if (i) out.push('; ');
      out = out.concat(p);
    });
    out.push('.');
    nearby.replaceChildren.apply(nearby, out);
    nearby.hidden = false;
  }

  function updatePicks() {
    if (!picks) return;
    var ids = picks.read();
    list.querySelectorAll('button[data-add]').forEach(function (b) {
      var on = ids.indexOf(b.dataset.add) >= 0;
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.textContent = on ? '✓ selection' : '+ selection';
    });
    if (summary) {
      var n = summary.querySelector('[data-pick-count]');
      if (n) n.textContent = ids.length + (ids.length === 1 ? ' pack version' : ' pack versions');
      summary.hidden = false;
    }
  }

  function show(q) {
    var qp = parse(q);
    var hits = search(qp);
    var items = document.createDocumentFragment();
    hits.forEach(function (h) { items.append(item(h)); });
    list.replaceChildren(items);
    updatePicks();
    if (nearby) nearby.hidden = true;
    if (count) {
      if (isEmpty(qp)) count.textContent = entries.length + ' packs, A–Z.';
      else if (!hits.length) count.textContent = 'No pack matches “' + q.trim() + '”.';
      else count.textContent = hits.length + (hits.length === 1 ? ' pack matches' : ' packs match') + ' “' + q.trim() + '”.';
    }
    if (!hits.length && !isEmpty(qp) && nearby) suggest(qp);
  }

  list.addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-add]');
    if (!b || !picks) return;
    if (picks.has(b.dataset.add)) picks.remove(b.dataset.add);
    else picks.add(b.dataset.add);
    updatePicks();
  });
  window.addEventListener('storage', updatePicks);

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
