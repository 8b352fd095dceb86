// Enhances a browse page: a filter over its rows, a signature link next to
// every version's .zst link, the "name@version" of each version as
// data-pick (for scripts that collect picks), and "Copy all URLs" for the
// rows the filter shows. Copied URLs are resolved against this page's own
// location (its <base>, the site root), so a mirror opened from disk or
// re-hosted copies URLs that work where it is. A classic deferred script:
// Chromium refuses module scripts on file:// pages.
(function () {
  'use strict';

  var table = document.getElementById('browse-rows');
  var tools = document.getElementById('browse-tools');
  var filter = document.getElementById('filter-rows');
  var copy = document.getElementById('copy-urls');
  var status = document.getElementById('browse-status');
  if (!table || !tools || !filter || !copy) return;

  var rows = Array.prototype.map.call(table.querySelectorAll('tr[data-pack]'), function (tr) {
    var pack = tr.getAttribute('data-pack');
    var links = Array.prototype.slice.call(tr.querySelectorAll('a[href$=".zst"]'));
    links.forEach(function (a) { addSignature(a, pack); });
    return { tr: tr, links: links, text: (pack + '\n' + tr.textContent).toLowerCase() };
  });

  // The signature sits next to the artifact: same name, .sig.bin for .zst.
  function addSignature(a, pack) {
    var version = a.textContent;
    a.setAttribute('data-pick', pack + '@' + version);
    var sig = document.createElement('a');
    sig.href = a.getAttribute('href').replace(/\.zst$/, '.sig.bin');
    sig.className = 'sig';
    sig.textContent = 'sig';
    sig.setAttribute('aria-label', 'sig: signature of ' + pack + ' ' + version); // begins with the visible text
    var after = a.parentNode.tagName === 'B' ? a.parentNode : a;
    after.after(' ', sig);
  }

  function visible() {
    return rows.filter(function (r) { return !r.tr.hidden; });
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    rows.forEach(function (r) {
      r.tr.hidden = !words.every(function (w) { return r.text.indexOf(w) !== -1; });
    });
    var shown = visible().length;
    say(words.length ? shown + ' of ' + rows.length + ' packs shown.' : '');
    copy.disabled = shown === 0;
  }

  // Artifact, then signature, one URL a line, for every version shown.
  function urls() {
    var out = [];
    visible().forEach(function (r) {
      r.links.forEach(function (a) {
        out.push(a.href);
        out.push(new URL(a.getAttribute('href').replace(/\.zst$/, '.sig.bin'), document.baseURI).href);
      });
    });
    return out;
  }

  // Without the clipboard API (plain http on another host is not a secure
  // context), show the list selected so the user can copy it.
  function fallback(text) {
    var box = document.getElementById('browse-urls');
    if (!box) {
      box = document.createElement('textarea');
      box.id = 'browse-urls';
      box.readOnly = true;
      box.rows = 6;
      box.setAttribute('aria-label', 'URLs of the packs shown');
      tools.append(box);
    }
    box.value = text;
    box.focus();
    box.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    return ok;
  }

  copy.addEventListener('click', function () {
    var list = urls();
    var text = list.join('\n') + '\n';
    var done = 'Copied ' + list.length + ' URLs (' + list.length / 2 + ' files and their signatures).';
    var manual = 'Select the list below and copy it.';
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { say(done); },
        function () { say(fallback(text) ? done : manual); });
    } else {
      say(fallback(text) ? done : manual);
    }
  });

  filter.addEventListener('input', applyFilter);
  tools.hidden = false;
  applyFilter();
})();
