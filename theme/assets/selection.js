// packstudio selection: the review of the pack versions picked with
// "+ selection" on browse pages (pick.js keeps their name@version in
// localStorage), with every pack version's downloads inline in
// #selection-data.
(function () {
  "use strict";
  var ps = window.packstudio || {};
  var dataEl = document.getElementById("selection-data");
  if (!dataEl || !ps.review || !ps.picks) return;
  var data = JSON.parse(dataEl.textContent);
  var status = document.getElementById("bundle-status");
  var clear = document.getElementById("selection-clear");
  var byID = new Map();
  var byOrder = []; // needs name versions by their position on the page
  data.packs.forEach(function (p) {
    p.versions.forEach(function (v) {
      var x = { order: byOrder.length, pack: p, v: v, id: p.name + "@" + v.v };
      byID.set(x.id, x);
      byOrder.push(x);
    });
  });

  // bundle.json names one release; mirror --bundle takes only versions it
  // offers. The newest release offering every pick is chosen until the
  // user picks one.
  var release = document.getElementById("selection-release");
  var warning = document.getElementById("selection-warning");
  var chosenByUser = false;
  data.releases.forEach(function (r, i) {
    var o = document.createElement("option");
    o.value = String(i);
    o.textContent = r.name;
    release.append(o);
  });
  release.addEventListener("change", function () { chosenByUser = true; render(); });
  release.closest("[data-release]").hidden = data.releases.length === 0;

  function offers(ri, id) { return byID.get(id).v.r.indexOf(ri) >= 0; }

  function pickRelease(ids) {
    if (chosenByUser) return;
    for (var ri = 0; ri < data.releases.length; ri++) {
      if (ids.every(function (id) { return offers(ri, id); })) { release.value = String(ri); return; }
    }
  }

  // opened is the release and cloud of the last bundle.json opened here:
  // its cloud goes back into bundle.json while that release is chosen.
  var opened = null;

  var show = ps.review(document.getElementById("review"), {
    root: data.root,
    key: data.key,
    bundle: function (ids) {
      var r = data.releases[Number(release.value)] || {};
      var b = { product: r.product, version: r.version, packs: ids };
      if (opened && opened.cloud && opened.release === release.value) b.cloud = opened.cloud;
      return b;
    }
  });

  // unmet lists each required rule of a pick that no other pick meets,
  // with the version one click adds: the newest current (not deprecated)
  // one offered by the release bundle.json names, of the first pack with
  // one, not another version of a picked pack.
  function unmet(known, ri) {
    var picked = new Set(known.map(function (id) { return byID.get(id).order; }));
    var packs = new Set(known.map(function (id) { return byID.get(id).pack; }));
    var out = [];
    known.forEach(function (id) {
      var x = byID.get(id);
      (x.v.n || []).forEach(function (met, k) {
        if (met.some(function (j) { return picked.has(j); })) return;
        var add = null;
        met.forEach(function (j) {
          var m = byOrder[j];
          if (m.v.d || packs.has(m.pack) || m.v.r.indexOf(ri) < 0) return;
          if (!add || add.pack === m.pack) add = m;
        });
        var words = data.needs[x.v.w[k]];
        var text = x.pack.display + " " + x.v.v + " needs " + words;
        if (!add) text += ": no current version of it is offered for " + ((data.releases[ri] || {}).name || "this release");
        out.push({ id: id, text: text + ".", add: add && { label: "Add " + add.pack.display + " " + add.v.v, click: function () {
          ps.picks.add(add.id);
          render();
          status.textContent = "Added " + add.id + ": " + x.pack.display + " " + x.v.v + " needs " + words + ".";
        } } });
      });
    });
    return out;
  }

  function render() {
    var ids = ps.picks.read();
    var unknown = ids.filter(function (id) { return !byID.has(id); });
    var known = ids.filter(function (id) { return byID.has(id); });
    known.sort(function (a, b) { return byID.get(a).order - byID.get(b).order; });
    status.textContent = unknown.length ? "No longer in this catalog: " + unknown.join(", ") + "." : "";
    clear.hidden = ids.length === 0;
    pickRelease(known);
    var ri = Number(release.value);
    var missing = known.filter(function (id) { return !offers(ri, id); });
    warning.textContent = missing.length ? "Not offered for " + (data.releases[ri] || {}).name + ", so mirror --bundle will refuse: " +
      missing.join(", ") + ". Choose another release or remove them." : "";
    show(known.map(function (id) {
      var x = byID.get(id);
      return { id: id, display: x.pack.display, version: x.v.v, size: x.v.s, sha256: x.v.h, url: x.v.u, sig: x.v.g,
        page: x.pack.page, images: x.v.im, remove: function () { ps.picks.remove(id); render(); status.textContent = "Removed " + id + "."; } };
    }), unmet(known, ri));
  }

  // Undo puts back the selection an action replaced (clear, open).
  var undoBox = document.querySelector("[data-undo]");
  var undoWhat = document.querySelector("[data-undo-what]");
  var undoIDs = null;
  function offerUndo(before, what) {
    undoIDs = before;
    undoBox.hidden = before.length === 0;
    undoWhat.textContent = "(" + what + ")";
  }
  document.getElementById("selection-undo").addEventListener("click", function () {
    if (!undoIDs) return;
    ps.picks.write(undoIDs);
    undoIDs = null;
    undoBox.hidden = true;
    render();
    status.textContent = "Selection put back as it was.";
  });

  clear.addEventListener("click", function () {
    offerUndo(ps.picks.read(), "clear");
    ps.picks.write([]);
    render();
    status.textContent = "Selection cleared.";
  });

  // Opening a bundle.json replaces the selection with its packs (Undo puts
  // the old one back) and chooses the release it names. The file is input
  // from anywhere: it is read as data, bounded, and only ids this catalog
  // holds are taken; the rest are named.
  var open = document.getElementById("selection-open");
  open.closest("[data-open]").hidden = false;
  open.addEventListener("change", function () {
    var file = open.files && open.files[0];
    if (!file) return;
    open.value = ""; // the same file chosen again is read again
    var name = file.name;
    if (file.size > (1 << 20)) {
      status.textContent = name + " is " + file.size + " bytes; a bundle.json is a few KiB. Nothing changed.";
      return;
    }
    file.text().then(function (text) {
      var b;
      try {
        b = JSON.parse(text);
      } catch (e) {
        status.textContent = name + " is not JSON (" + e.message + "). Nothing changed.";
        return;
      }
      var packs = b && Array.isArray(b.packs) && b.packs.every(function (s) { return typeof s === "string"; }) ? b.packs : null;
      if (!packs) {
        status.textContent = name + " is not a bundle.json: it has no \"packs\" list of \"name@version\". Nothing changed.";
        return;
      }
      var ids = [], notHere = [];
      packs.forEach(function (id) {
        if (!byID.has(id)) notHere.push(id);
        else if (ids.indexOf(id) < 0) ids.push(id);
      });
      var ri = -1;
      data.releases.forEach(function (r, i) { if (r.product === b.product && r.version === b.version) ri = i; });
      offerUndo(ps.picks.read(), "open " + name);
      ps.picks.write(ids);
      opened = null;
      if (ri >= 0) {
        release.value = String(ri);
        chosenByUser = true;
        opened = { release: release.value, cloud: typeof b.cloud === "string" ? b.cloud : "" };
      } else {
        chosenByUser = false;
      }
      render();
      var said = "Opened " + name + ": " + ids.length + " pack version" + (ids.length === 1 ? "" : "s");
      said += ri >= 0 ? " for " + data.releases[ri].name + "." : ".";
      if (ri < 0 && (b.product || b.version)) said += " It names " + String(b.product) + " " + String(b.version) + ", which this site does not offer; choose a release below.";
      if (notHere.length) said += " Not in this catalog, left out: " + notHere.join(", ") + ".";
      status.textContent = said;
    }, function () {
      status.textContent = name + " could not be read. Nothing changed.";
    });
  });
  window.addEventListener("storage", render);
  document.querySelectorAll("[data-nojs]").forEach(function (p) { p.hidden = true; });
  render();
})();
