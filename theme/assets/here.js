// Makes a page tell the truth about where it is. Commands it prints
// (elements with data-here: a path relative to the page's own URL) name the host the
// page was served from, not the base URL it was built with, so a re-hosted
// mirror prints curl lines that work there; opened from disk, the built
// URLs stay (a file:// URL means nothing to curl on another machine).
// And on a partial mirror, links to the artifacts it left out, and the
// builder's choices of those pack versions, say "not in this mirror". What
// was left out comes from assets/mirror.js, loaded before this script: the
// build writes it empty, a partial mirror writes its list. It is read as
// data only: names are checked, and only text is added to the page.
// A classic deferred script: Chromium refuses module scripts on file://.
(function () {
  'use strict';

  var script = document.currentScript;
  var root = script ? new URL('../', script.src).href : null; // this script is in assets/

  if (location.protocol === 'http:' || location.protocol === 'https:') {
    Array.prototype.forEach.call(document.querySelectorAll('[data-here]'), function (el) {
      // Relative to the page itself, not to a <base> (browse pages have one).
      el.textContent = new URL(el.getAttribute('data-here'), location.href).href;
    });
  }

  var note = self.packstudioMirror;
  if (!root || !note || !Array.isArray(note.left_out) || note.left_out.length === 0) return;

  var artifact = /^artifacts\/[A-Za-z0-9._+~@=-][A-Za-z0-9._+~@=\/-]*$/;
  var packFile = /^artifacts\/packs\/([a-z0-9][a-z0-9.-]*)\/([^\/]+)\.zst$/; // <name>/<name>-<version>.zst
  var leftOut = new Set();
  var packs = new Set(); // name@version of left-out pack artifacts
  note.left_out.forEach(function (p) {
    if (typeof p !== 'string' || !artifact.test(p) || p.indexOf('..') !== -1) return;
    leftOut.add(p);
    var m = packFile.exec(p);
    if (m && m[2].indexOf(m[1] + '-') === 0 && m[2].length > m[1].length + 1) {
      packs.add(m[1] + '@' + m[2].slice(m[1].length + 1));
    }
  });
  if (leftOut.size === 0) return;

  function tag() {
    var s = document.createElement('span');
    s.className = 'tag left-out';
    s.textContent = 'not in this mirror';
    return s;
  }

  // The path of a link inside the site, or null.
  function sitePath(a) {
    var href = a.href;
    if (href.indexOf(root) !== 0) return null;
    try {
      return decodeURIComponent(href.slice(root.length).split(/[?#]/)[0]);
    } catch (e) {
      return null;
    }
  }

  var marked = new Set();
  function markOnce(el, after) {
    if (marked.has(el)) return;
    marked.add(el);
    if (after) el.after(' ', tag()); else el.append(' ', tag());
  }

  // The builder: a pack version's choice, whether or not it has links.
  Array.prototype.forEach.call(document.querySelectorAll('input[value*="@"]'), function (input) {
    if (!packs.has(input.value)) return;
    input.setAttribute('data-left-out', '');
    var label = input.closest('label');
    if (label) markOnce(label, false);
  });

  // Links to left-out artifacts (their signatures sit beside them).
  Array.prototype.forEach.call(document.querySelectorAll('a[href]'), function (a) {
    var p = sitePath(a);
    if (!p || !leftOut.has(p)) return;
    a.setAttribute('data-left-out', '');
    if (/\.sig\.bin$/.test(p)) return;
    var li = a.closest('li');
    if (li && li.querySelector('input[data-left-out]')) return; // marked at its choice
    var version = a.closest('section.version');
    if (version) {
      var h = version.querySelector('h3');
      if (h) markOnce(h, false);
    }
    markOnce(a.parentNode.tagName === 'B' ? a.parentNode : a, true);
  });
})();
