// packstudio selection: the review of the pack versions picked with "Add
// to bundle" on browse pages (pick.js keeps their name@version in
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
  var order = 0;
  data.packs.forEach(function (p) {
    p.versions.forEach(function (v) {
      byID.set(p.name + "@" + v.v, { order: order++, pack: p, v: v });
    });
  });

  var show = ps.review(document.getElementById("review"), {
    root: data.root,
    bundle: function (ids) { return { packs: ids }; }
  });

  function render() {
    var ids = ps.picks.read();
    var unknown = ids.filter(function (id) { return !byID.has(id); });
    var known = ids.filter(function (id) { return byID.has(id); });
    known.sort(function (a, b) { return byID.get(a).order - byID.get(b).order; });
    status.textContent = unknown.length ? "No longer in this catalog: " + unknown.join(", ") + "." : "";
    clear.hidden = ids.length === 0;
    show(known.map(function (id) {
      var x = byID.get(id);
      return { id: id, display: x.pack.display, version: x.v.v, size: x.v.s, sha256: x.v.h, url: x.v.u, sig: x.v.g,
        page: x.pack.page, remove: function () { ps.picks.remove(id); render(); status.textContent = "Removed " + id + "."; } };
    }));
  }

  clear.addEventListener("click", function () { ps.picks.write([]); render(); status.textContent = "Selection cleared."; });
  window.addEventListener("storage", render);
  document.querySelectorAll("[data-nojs]").forEach(function (p) { p.hidden = true; });
  render();
})();
