// packstudio bundle builder: enhances <form id="bundle">, whose fieldsets
// already list every pack version of the context, with the data inline in
// #bundle-data. A version is offered when it fits the arch and FIPS
// toggles and is compatible with every choice in the layers above it (and,
// in a multiple-choice layer, with the other ticked packs). The state lives
// in the URL fragment: #arch=amd64&fips=all&os=ubuntu@22.04&addon=a@1,b@2
//
// A choice is never thrown away by another one: a chosen version that a
// later change makes incompatible stays chosen as a conflict (checked,
// aria-invalid, with the reason), is left out of the review until the
// conflict goes, and comes back by itself when it does. Every change is a
// history entry, so Back and Forward step through them, and Undo reverses
// the last one. In-page links (skip links, Review) never touch the state.
//
// A required rule of a counting choice ("needs Prometheus Operator 75.0.0
// or later") that no counting choice meets is listed in the review's
// #bundle-needs, with one click to add the newest current (not
// deprecated) version that meets it and fits the bundle. A version is not
// offered when one of its required rules cannot be met: no version of
// the context meets it, or every one that does is ruled out by the
// toggles, by the version itself or by a counting choice (it is another
// version of a chosen pack, goes in a single-choice layer already chosen,
// or conflicts). Only one level is looked at: a meeting version's own
// needs do not hide anything. On the add-on only page, a rule that only
// versions of the other layers meet is left to the cluster: it never hides
// a version, and is listed as unmet, as mirror --bundle reports it.
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
    e.needs = (e.n || []).map(function (met, k) {
      return { met: met, words: data.needs[e.w[k]], outside: (e.o || []).indexOf(k) >= 0 };
    });
    e.text = (p.display + " " + p.name + " " + e.v).toLowerCase();
    byID.set(e.id, i);
  });

  // The FIPS toggle is absent where no version of the context is FIPS.
  var archSel = form.elements.arch, fipsSel = form.elements.fips || null;
  var search = document.getElementById("bundle-search");
  var status = document.getElementById("bundle-status");
  var undoBox = document.querySelector("[data-undo]");
  var undoButton = document.getElementById("bundle-undo");
  var undoWhat = document.querySelector("[data-undo-what]");
  var jump = document.querySelector("[data-review-jump]");
  var fieldsets = layers.map(function (l) { return form.querySelector('fieldset[data-layer="' + CSS.escape(l.id) + '"]'); });
  var none = fieldsets.map(function (fs) { return fs && fs.querySelector('input[value=""]'); });
  var inputs = new Array(entries.length);
  // Each version's item holds its input and its download links; versions
  // are grouped in an item per pack, hidden when none of them is shown.
  var items = new Array(entries.length), groups = new Array(packs.length);
  var reasons = new Array(entries.length); // the conflict note of an item, made when first needed
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
  // were picked (several only in a multiple-choice layer), conflicting or
  // not.
  var state = { arch: "all", fips: "all", chosen: layers.map(function () { return []; }) };
  // The outcome of evaluate(): the chosen entries that count, and why each
  // other chosen entry does not.
  var active = new Set(), conflict = new Map();
  var undo = []; // fragments before each change made on this page, last on top
  var notOffered = []; // ids of the last restored fragment that the page does not offer

  function fitsToggles(e) {
    if (state.arch !== "all" && !(e.a & (1 << data.arches.indexOf(state.arch)))) return false;
    if (state.fips === "fips") return !!e.f;
    if (state.fips === "non-fips") return !e.f;
    return true;
  }

  function togglesReason(e) {
    if (state.arch !== "all" && !(e.a & (1 << data.arches.indexOf(state.arch)))) return "not built for " + state.arch;
    return state.fips === "fips" ? "not FIPS, and FIPS only is set" : "FIPS, and non-FIPS only is set";
  }

  function compatible(a, b) {
    return a.pack !== b.pack && !a.conflicts.has(b.i) && !b.conflicts.has(a.i);
  }

  // against returns the first counting choice that e may not go with:
  // those of the layers above it and, in a multiple-choice layer, the
  // other counting ticks there.
  function against(e) {
    for (var l = 0; l <= e.layer; l++) {
      if (l === e.layer && !layers[l].multiple) break;
      var ch = state.chosen[l];
      for (var k = 0; k < ch.length; k++) {
        if (ch[k] !== e.i && active.has(ch[k]) && !compatible(e, entries[ch[k]])) return entries[ch[k]];
      }
    }
    return null;
  }

  // usable reports whether m can meet a need of e: m counts already, or
  // could be added as things are (fits the toggles, its single-choice
  // layer is free or chosen only by a conflict, and it is compatible with
  // every counting choice), and m goes with e. The counting choice of e's
  // own single-choice layer is left aside: choosing e replaces it.
  function usable(m, e) {
    if (!compatible(m, e)) return false;
    if (active.has(m.i)) return true;
    if (!fitsToggles(m)) return false;
    var single = !layers[e.layer].multiple;
    var blocked = false;
    active.forEach(function (c) {
      var x = entries[c];
      if (single && x.layer === e.layer) return;
      if (x.layer === m.layer && !layers[m.layer].multiple || !compatible(m, x)) blocked = true;
    });
    return !blocked;
  }

  // meetable reports whether every required rule of e can be met.
  function meetable(e) {
    return e.needs.every(function (n) {
      return n.outside || n.met.some(function (j) { return usable(entries[j], e); });
    });
  }

  function offered(e) { return fitsToggles(e) && !against(e) && meetable(e); }

  // unmet lists the required rules of the counting choices that no
  // counting choice meets, each with the version one click adds: the
  // newest current one that is usable, of the first pack (in entry
  // order) that has one.
  function unmet() {
    var out = [];
    Array.from(active).sort(function (a, b) { return a - b; }).forEach(function (i) {
      var e = entries[i];
      e.needs.forEach(function (n) {
        if (n.met.some(function (j) { return active.has(j); })) return;
        var add = null, deprecated = false;
        n.met.forEach(function (j) {
          var m = entries[j];
          if (!usable(m, e)) return;
          if (m.d) { deprecated = true; return; }
          if (!add || add.pack === m.pack) add = m; // entries go by version within a pack
        });
        var text = label(e) + " needs " + n.words;
        if (n.outside) text += ": none on this page; the cluster you add to must run it";
        else if (!add && deprecated) text += ": only deprecated versions fit; choose one in the " + layers[entries[n.met[0]].layer].name + " step";
        else if (!add) text += ": no version offered here fits your other choices; change them, or remove " + label(e);
        out.push({ e: e, words: n.words, add: add, text: text + "." });
      });
    });
    return out;
  }

  // addNeeded chooses m to meet a need of e, as one change.
  function addNeeded(m, e, words) {
    change("added " + label(m) + " for " + label(e), function () {
      var list = state.chosen[m.layer];
      if (!layers[m.layer].multiple) state.chosen[m.layer] = [m.i];
      else if (list.indexOf(m.i) < 0) list.push(m.i);
    });
    status.textContent = "Added " + label(m) + ": " + label(e) + " needs " + words + ". " + status.textContent;
    var next = document.querySelector("#bundle-needs button");
    goTo(next || document.getElementById("review"));
  }

  // evaluate decides, layer by layer and in pick order, which choices
  // count: a choice counts when it fits the toggles and every counting
  // choice before it. The others are conflicts, kept with their reason.
  function evaluate() {
    active = new Set();
    conflict = new Map();
    state.chosen.forEach(function (list) {
      list.forEach(function (i) {
        var e = entries[i];
        if (!fitsToggles(e)) { conflict.set(i, togglesReason(e)); return; }
        var x = against(e);
        if (x) conflict.set(i, "not compatible with " + label(x));
        else active.add(i);
      });
    });
  }

  function label(e) { return e.pack.display + " " + e.v; }

  function words() {
    return search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
  }

  function render() {
    evaluate();
    var ws = words();
    var hidden = layers.map(function () { return 0; });
    var shown = packs.map(function () { return false; });
    entries.forEach(function (e) {
      var inp = inputs[e.i];
      if (!inp) return;
      var chosen = state.chosen[e.layer].indexOf(e.i) >= 0;
      var why = conflict.get(e.i);
      var ok = chosen || offered(e);
      var match = ws.every(function (w) { return e.text.indexOf(w) >= 0; });
      if (inp.disabled === ok) inp.disabled = !ok;
      if (inp.checked !== chosen) inp.checked = chosen;
      markConflict(e.i, why);
      var hide = !ok || !match && !why;
      if (items[e.i].hidden !== hide) items[e.i].hidden = hide;
      if (!hide) shown[e.p || 0] = true;
      if (!ok) hidden[e.layer]++;
    });
    groups.forEach(function (g, p) { if (g && g.hidden === shown[p]) g.hidden = !shown[p]; });
    layers.forEach(function (l, i) {
      if (none[i]) none[i].checked = state.chosen[i].length === 0;
      var hint = fieldsets[i] && fieldsets[i].querySelector("[data-hint]");
      if (hint) hint.textContent = hidden[i] ? hidden[i] + " more " + (hidden[i] === 1 ? "version is" : "versions are") +
        " hidden: not for this architecture or FIPS choice, not compatible with your choices" + (l.multiple ? "" : " above") +
        ", or needing a version that they rule out." : "";
    });
    var chosen = picks();
    var needs = unmet();
    show(chosen, needs.map(function (n) {
      return { id: n.e.id, text: n.text, add: n.add && { label: "Add " + label(n.add) + (n.add.layer === n.e.layer ? "" : " (" + layers[n.add.layer].name + ")"),
        click: function () { addNeeded(n.add, n.e, n.words); } } };
    }));
    jump.textContent = chosen.length ? "Review your " + chosen.length + (chosen.length === 1 ? " pack version" : " pack versions") +
      " (" + ps.humanSize(chosen.reduce(function (n, p) { return n + p.size; }, 0)) + ")" +
      (needs.length ? ", " + needs.length + (needs.length === 1 ? " need" : " needs") + " unmet" : "") : "Review";
    tell(needs);
  }

  // markConflict shows or clears the reason next to a chosen version that
  // does not count, and ties it to the input for assistive tools.
  function markConflict(i, why) {
    var inp = inputs[i];
    if (!why) {
      if (inp.hasAttribute("aria-invalid")) {
        inp.removeAttribute("aria-invalid");
        inp.removeAttribute("aria-describedby");
        reasons[i].hidden = true;
      }
      return;
    }
    if (!reasons[i]) {
      reasons[i] = document.createElement("small");
      reasons[i].className = "conflict";
      reasons[i].id = "conflict-" + i;
      inp.closest("label").after(" ", reasons[i]);
    }
    reasons[i].hidden = false;
    reasons[i].textContent = "Conflict: " + why + "; left out of the bundle until resolved.";
    inp.setAttribute("aria-invalid", "true");
    inp.setAttribute("aria-describedby", reasons[i].id);
  }

  // tell writes the message: the conflicts as they are now (it stays while
  // they do), what a restored link named that the page does not offer, and
  // Undo for the last change.
  function tell(needs) {
    var msg = [];
    if (needs.length) {
      msg.push("Incomplete: " + needs.map(function (n) { return label(n.e) + " needs " + n.words; }).join("; ") +
        ". The review offers to add what is missing.");
    }
    if (notOffered.length) msg.push("Not offered here: " + notOffered.join(", ") + ".");
    if (conflict.size) {
      var list = [];
      conflict.forEach(function (why, i) { list.push(label(entries[i]) + " (" + why + ")"); });
      msg.push("Left out until resolved: " + list.join("; ") +
        ". They come back by themselves when the choice that excludes them changes back; choose another version or clear them to resolve.");
    }
    var text = msg.join(" ");
    if (status.textContent !== text) status.textContent = text;
    undoBox.hidden = undo.length === 0;
    if (undo.length) undoWhat.textContent = "(" + undo[undo.length - 1].what + ")";
  }

  // picks are the chosen entries that count, in entry order, as the
  // review shows them.
  function picks() {
    var all = Array.from(active);
    all.sort(function (a, b) { return a - b; });
    return all.map(function (i) {
      var e = entries[i];
      var sig = items[i].querySelector('a[href$=".sig.bin"]');
      return { id: e.id, display: e.pack.display, version: e.v, size: e.s, sha256: e.h, page: e.pack.page, images: e.im,
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

  // isState tells a state fragment from an in-page target such as #main.
  function isState(hash) { return hash.indexOf("=") >= 0 || hash === "" || hash === "#"; }

  // restore reads a fragment; ids the page does not offer are named.
  function restore(hash) {
    var params = new URLSearchParams(hash.slice(1));
    state.arch = oneOf(archSel, params.get("arch"));
    state.fips = fipsSel ? oneOf(fipsSel, params.get("fips")) : "all";
    archSel.value = state.arch;
    if (fipsSel) fipsSel.value = state.fips;
    var unknown = [];
    state.chosen = layers.map(function (l, li) {
      var ids = (params.get(l.id) || "").split(",").filter(Boolean);
      var out = [];
      ids.forEach(function (id) {
        var i = byID.get(id);
        if (i === undefined || entries[i].layer !== li) unknown.push(id);
        else if (out.indexOf(i) < 0) out.push(i);
      });
      return l.multiple ? out : out.slice(-1);
    });
    notOffered = unknown;
  }

  function oneOf(select, v) {
    for (var k = 0; k < select.options.length; k++) if (select.options[k].value === v) return v;
    return "all";
  }

  // change applies one change of choices as a new history entry, Undo
  // going back to the state before it.
  function change(what, apply) {
    var before = fragment();
    apply();
    var after = fragment();
    if (after === before) return; // an event that changed nothing
    undo.push({ fragment: before, what: what });
    notOffered = [];
    history.pushState(null, "", after);
    render();
  }

  undoButton.addEventListener("click", function () {
    var last = undo.pop();
    if (!last) return;
    restore(last.fragment);
    notOffered = [];
    history.pushState(null, "", fragment());
    render();
    status.textContent = "Undone: " + last.what + ". " + status.textContent;
  });

  function layerIndex(id) {
    for (var k = 0; k < layers.length; k++) if (layers[k].id === id) return k;
    return -1;
  }

  // choose records what an input now says, as one change.
  function choose(t) {
    var l = layerIndex(t.name);
    if (l < 0) return;
    var i = t.value ? byID.get(t.value) : undefined;
    if (t.value && i === undefined) return;
    if (t.type === "radio") {
      change(layers[l].name + ": " + (t.value ? label(entries[i]) : "none"), function () {
        state.chosen[l] = t.value ? [i] : [];
      });
    } else if (t.type === "checkbox") {
      change((t.checked ? "added " : "removed ") + label(entries[i]), function () {
        var list = state.chosen[l];
        if (t.checked && list.indexOf(i) < 0) list.push(i);
        if (!t.checked) state.chosen[l] = list.filter(function (j) { return j !== i; });
      });
    }
  }

  // Arrow keys in a radio group move the check along the group; a move is
  // not a choice until Space or Enter, or until focus leaves the group.
  var arrowing = false, pending = null;
  form.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (t.type !== "radio") return;
    if (/^Arrow/.test(ev.key)) arrowing = true;
    else if (ev.key === " " || ev.key === "Enter") {
      if (ev.key === "Enter") ev.preventDefault();
      commitPending();
    }
  });
  form.addEventListener("keyup", function () { arrowing = false; });
  form.addEventListener("focusout", function (ev) {
    if (!pending) return;
    var to = ev.relatedTarget;
    if (to && to.type === "radio" && to.name === pending.name) return;
    commitPending();
  });
  function commitPending() {
    var t = pending;
    pending = null;
    if (t && t.checked) choose(t);
  }

  form.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t === archSel || t === fipsSel) {
      var sel = t === archSel ? "Architecture" : "FIPS";
      change(sel + ": " + t.options[t.selectedIndex].textContent, function () {
        state.arch = archSel.value;
        state.fips = fipsSel ? fipsSel.value : "all";
      });
      return;
    }
    if (t.type === "radio" && arrowing) {
      pending = t;
      return;
    }
    if (t.type === "radio" || t.type === "checkbox") choose(t);
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  if (search) search.addEventListener("input", render);

  // In-page links (skip links, the steps, Review) move focus to their
  // target without touching the fragment, which holds the choices.
  function target(hash) {
    if (!hash || isState(hash)) return null;
    var id;
    try { id = decodeURIComponent(hash.slice(1)); } catch (e) { return null; }
    return document.getElementById(id);
  }
  function goTo(el) {
    if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.scrollIntoView();
    el.focus({ preventScroll: true });
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[href]");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var u = new URL(a.href, location.href);
    if (u.href.split("#")[0] !== location.href.split("#")[0]) return;
    var el = target(u.hash);
    if (!el) return;
    ev.preventDefault();
    goTo(el);
  }, true);

  // Back and Forward step through the changes.
  window.addEventListener("popstate", function () {
    if (!isState(location.hash) || location.hash === fragment()) return;
    restore(location.hash);
    undo = [];
    render();
  });
  // A fragment typed or followed some other way: an in-page target keeps
  // the choices (the state goes back into the URL); a state is restored.
  window.addEventListener("hashchange", function () {
    var el = target(location.hash);
    if (el) {
      history.replaceState(null, "", fragment());
      goTo(el);
      return;
    }
    if (location.hash !== fragment()) { restore(location.hash); render(); }
  });

  var show = ps.review(document.getElementById("review"), {
    root: data.root,
    key: data.key,
    bundle: function (ids) {
      var b = { product: data.product, version: data.version };
      if (data.cloud) b.cloud = data.cloud;
      b.packs = ids;
      return b;
    }
  });
  document.querySelectorAll("[data-nojs]").forEach(function (p) { p.hidden = true; });
  document.querySelectorAll("[data-steps]").forEach(function (p) { p.hidden = false; });
  jump.parentNode.hidden = false;
  var first = target(location.hash);
  restore(first ? "" : location.hash);
  render();
  history.replaceState(null, "", fragment());
  if (first) goTo(first);
  form.dataset.ready = String(Math.round(performance.now()));
})();
