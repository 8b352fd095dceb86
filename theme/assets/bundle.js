// packstudio bundle builder: enhances <form id="bundle">, whose fieldsets
// already list every pack version of the context, with the data inline in
// #bundle-data. A version is offered when it fits the arch and FIPS
// toggles and is compatible with every choice in the layers above it (and,
// in a multiple-choice layer, with the other ticked packs). The state lives
// in the URL fragment: #arch=amd64&fips=all&os=ubuntu@22.04&addon=a@1,b@2
(function () {
  "use strict";
  var ps = window.packstudio || {};
  var form = document.getElementById("bundle");
  var dataEl = document.getElementById("bundle-data");
  if (!form || !dataEl || !ps.review) return;
  var data = JSON.parse(dataEl.textContent);
  var layers = data.layers, packs = data.packs, entries = data.entries;
  var byID = new Map();
  entries.forEach(function (e, i) {
    var p = packs[e.p || 0];
    e.i = i;
    e.pack = p;
    e.layer = p.layer;
    e.id = p.name + "@" + e.v;
    e.conflicts = new Set(e.c || []);
    e.text = (p.display + " " + p.name + " " + e.v).toLowerCase();
    byID.set(e.id, i);
  });

  var archSel = form.elements.arch, fipsSel = form.elements.fips;
  var search = document.getElementById("bundle-search");
  var status = document.getElementById("bundle-status");
  var jump = document.querySelector("[data-review-jump]");
  var fieldsets = layers.map(function (l) { return form.querySelector('fieldset[data-layer="' + CSS.escape(l.id) + '"]'); });
  var none = fieldsets.map(function (fs) { return fs && fs.querySelector('input[value=""]'); });
  var inputs = new Array(entries.length);
  // Each version's item holds its input and its download links; versions
  // are grouped in an item per pack, hidden when none of them is shown.
  var items = new Array(entries.length), groups = new Array(packs.length);
  form.querySelectorAll("fieldset[data-layer] input[value]").forEach(function (inp) {
    if (!inp.value || !byID.has(inp.value)) return;
    var i = byID.get(inp.value);
    inputs[i] = inp;
    items[i] = inp.closest("li");
    groups[entries[i].p || 0] = items[i].parentNode.closest("li");
  });
  // A pack's page is the link that heads its versions.
  packs.forEach(function (p, k) { p.page = groups[k] ? groups[k].querySelector("a").getAttribute("href") : ""; });

  // chosen[l] holds the entry indices chosen in layer l, in the order they
  // were picked (several only in a multiple-choice layer).
  var state = { arch: "all", fips: "all", chosen: layers.map(function () { return []; }) };

  function fitsToggles(e) {
    if (state.arch !== "all" && !(e.a & (1 << data.arches.indexOf(state.arch)))) return false;
    if (state.fips === "fips") return !!e.f;
    if (state.fips === "non-fips") return !e.f;
    return true;
  }

  function compatible(a, b) {
    return a.pack !== b.pack && !a.conflicts.has(b.i) && !b.conflicts.has(a.i);
  }

  // offered says whether entry e can be chosen given the choices in the
  // layers above it and, in a multiple-choice layer, the other ticks there.
  function offered(e) {
    if (!fitsToggles(e)) return false;
    for (var l = 0; l < layers.length; l++) {
      if (l > e.layer || (l === e.layer && !layers[l].multiple)) continue;
      var ch = state.chosen[l];
      for (var k = 0; k < ch.length; k++) {
        if (ch[k] !== e.i && !compatible(e, entries[ch[k]])) return false;
      }
    }
    return true;
  }

  // normalize drops, layer by layer and in pick order, every choice that no
  // longer fits the ones kept before it; it returns the dropped entries.
  function normalize() {
    var kept = layers.map(function () { return []; }), dropped = [];
    var old = state.chosen;
    state.chosen = kept;
    old.forEach(function (list, l) {
      list.forEach(function (i) {
        if (offered(entries[i])) kept[l].push(i);
        else dropped.push(entries[i]);
      });
    });
    return dropped;
  }

  function label(e) { return e.pack.display + " " + e.v; }

  function say(dropped, why) {
    if (!dropped.length) { status.textContent = ""; return; }
    status.textContent = "Removed " + dropped.map(label).join(", ") + ": " + why + ".";
  }

  function words() {
    return search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
  }

  function render() {
    var ws = words();
    var hidden = layers.map(function () { return 0; });
    var shown = packs.map(function () { return false; });
    entries.forEach(function (e) {
      var inp = inputs[e.i];
      if (!inp) return;
      var chosen = state.chosen[e.layer].indexOf(e.i) >= 0;
      var ok = chosen || offered(e);
      var match = ws.every(function (w) { return e.text.indexOf(w) >= 0; });
      if (inp.disabled === ok) inp.disabled = !ok;
      if (inp.checked !== chosen) inp.checked = chosen;
      var hide = !ok || !match;
      if (items[e.i].hidden !== hide) items[e.i].hidden = hide;
      if (!hide) shown[e.p || 0] = true;
      if (!ok) hidden[e.layer]++;
    });
    groups.forEach(function (g, p) { if (g && g.hidden === shown[p]) g.hidden = !shown[p]; });
    layers.forEach(function (l, i) {
      if (none[i]) none[i].checked = state.chosen[i].length === 0;
      var hint = fieldsets[i] && fieldsets[i].querySelector("[data-hint]");
      if (hint) hint.textContent = hidden[i] ? hidden[i] + " more " + (hidden[i] === 1 ? "version is" : "versions are") +
        " hidden: not for this architecture or FIPS choice, or not compatible with your choices" + (l.multiple ? "." : " above.") : "";
    });
    var chosen = picks();
    show(chosen);
    jump.textContent = chosen.length ? "Review your " + chosen.length + (chosen.length === 1 ? " pack version" : " pack versions") +
      " (" + ps.humanSize(chosen.reduce(function (n, p) { return n + p.size; }, 0)) + ")" : "Review";
  }

  // picks are the chosen entries in entry order, as the review shows them.
  function picks() {
    var all = [];
    state.chosen.forEach(function (list) { all = all.concat(list); });
    all.sort(function (a, b) { return a - b; });
    return all.map(function (i) {
      var e = entries[i];
      var sig = items[i].querySelector('a[href$=".sig.bin"]');
      return { id: e.id, display: e.pack.display, version: e.v, size: e.s, sha256: e.h, page: e.pack.page,
        url: items[i].querySelector('a:not([href$=".sig.bin"])').getAttribute("href"), sig: sig.getAttribute("href") };
    });
  }

  // fragmentPart encodes a value for the fragment, keeping name@version readable.
  function fragmentPart(s) { return encodeURIComponent(s).replace(/%40/g, "@"); }

  function fragment() {
    var parts = ["arch=" + fragmentPart(state.arch), "fips=" + fragmentPart(state.fips)];
    layers.forEach(function (l, i) {
      if (state.chosen[i].length) {
        parts.push(fragmentPart(l.id) + "=" + state.chosen[i].map(function (j) { return fragmentPart(entries[j].id); }).join(","));
      }
    });
    return "#" + parts.join("&");
  }

  function save() {
    var f = fragment();
    if (location.hash !== f) history.replaceState(null, "", f);
  }

  // restore reads the fragment; unknown or no longer fitting versions are
  // dropped and named.
  function restore() {
    var params = new URLSearchParams(location.hash.slice(1));
    state.arch = oneOf(archSel, params.get("arch"));
    state.fips = oneOf(fipsSel, params.get("fips"));
    archSel.value = state.arch;
    fipsSel.value = state.fips;
    var unknown = [];
    state.chosen = layers.map(function (l) {
      var ids = (params.get(l.id) || "").split(",").filter(Boolean);
      var out = [];
      ids.forEach(function (id) {
        var i = byID.get(id);
        if (i === undefined || entries[i].layer !== layers.indexOf(l)) unknown.push(id);
        else if (out.indexOf(i) < 0) out.push(i);
      });
      return l.multiple ? out : out.slice(-1);
    });
    var dropped = normalize();
    var msg = [];
    if (unknown.length) msg.push("Not offered here: " + unknown.join(", ") + ".");
    if (dropped.length) msg.push("Removed " + dropped.map(label).join(", ") + ": not compatible with the rest of the link.");
    status.textContent = msg.join(" ");
  }

  function oneOf(select, v) {
    for (var k = 0; k < select.options.length; k++) if (select.options[k].value === v) return v;
    return "all";
  }

  form.addEventListener("change", function (ev) {
    var t = ev.target, before = fragment();
    var why = "not compatible with your new choice";
    if (t === archSel || t === fipsSel) {
      state.arch = archSel.value;
      state.fips = fipsSel.value;
      why = "not available for this architecture or FIPS choice";
    } else if (t.name && t.type === "radio") {
      var l = layerIndex(t.name);
      state.chosen[l] = t.value ? [byID.get(t.value)] : [];
    } else if (t.type === "checkbox") {
      var m = layerIndex(t.name), i = byID.get(t.value), list = state.chosen[m];
      if (t.checked && list.indexOf(i) < 0) list.push(i);
      if (!t.checked) state.chosen[m] = list.filter(function (j) { return j !== i; });
    } else {
      return;
    }
    var dropped = normalize();
    if (fragment() === before) return; // an event that changed nothing keeps the last message
    say(dropped, why);
    render();
    save();
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  if (search) search.addEventListener("input", render);

  function layerIndex(id) {
    for (var k = 0; k < layers.length; k++) if (layers[k].id === id) return k;
    return -1;
  }

  window.addEventListener("hashchange", function () {
    if (location.hash !== fragment()) { restore(); render(); }
  });

  var show = ps.review(document.getElementById("review"), {
    root: data.root,
    bundle: function (ids) {
      var b = { product: data.product, version: data.version };
      if (data.cloud) b.cloud = data.cloud;
      b.packs = ids;
      return b;
    }
  });
  document.querySelectorAll("[data-nojs]").forEach(function (p) { p.hidden = true; });
  jump.parentNode.hidden = false;
  restore();
  render();
  save();
  form.dataset.ready = String(Math.round(performance.now()));
})();
