// packstudio review: the list of chosen pack versions shared by the bundle
// builder and the selection page — sizes, total, the URL list, "Copy all
// URLs", and urls.txt / SHA256SUMS / bundle.json made in the page.
// A classic script (module scripts do not load from file://): it adds
// packstudio.review and packstudio.humanSize to one global.
(function () {
  "use strict";
  var ps = (window.packstudio = window.packstudio || {});

  // humanSize formats a byte count as the generator's humanSize does.
  ps.humanSize = function (n) {
    if (n < 1024) return n + " B";
    var units = "KMGTPE", exp = -1;
    do { n /= 1024; exp++; } while (n >= 1024 && exp < units.length - 1);
    return n.toFixed(1) + " " + units[exp] + "iB";
  };

  // absolute resolves a path relative to this page against its own
  // location, so a mirror re-hosted elsewhere or opened from disk hands out
  // URLs that work where it is.
  ps.absolute = function (rel) { return new URL(rel, location.href).href; };

  function baseName(path) { return path.slice(path.lastIndexOf("/") + 1); }

  function el(tag, text) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function link(href, text) {
    var a = el("a", text);
    a.href = href;
    return a;
  }

  // urlList is every artifact URL then its signature URL, in pick order.
  ps.urlList = function (picks) {
    var lines = [];
    picks.forEach(function (p) { lines.push(ps.absolute(p.url), ps.absolute(p.sig)); });
    return lines.length ? lines.join("\n") + "\n" : "";
  };

  // sha256sums checks the downloaded artifacts with sha256sum -c.
  ps.sha256sums = function (picks) {
    return picks.map(function (p) { return p.sha256 + "  " + baseName(p.url) + "\n"; }).join("");
  };

  // review wires the review section. meta.bundle(ids) returns the object
  // saved as bundle.json; meta.root is the path to the site root. The
  // returned function shows a new list of picks.
  ps.review = function (section, meta) {
    var rows = section.querySelector("[data-review-rows]");
    var list = section.querySelector("[data-review-list]");
    var empty = section.querySelector("[data-review-empty]");
    var total = section.querySelector("[data-review-total]");
    var textarea = section.querySelector("#bundle-urls");
    var copy = section.querySelector("#copy-urls");
    var copyStatus = section.querySelector("[data-copy-status]");
    var downloads = section.querySelectorAll("[data-download]");
    var blobs = [];
    section.querySelector("[data-mirror-cmd]").textContent =
      "packstudio mirror " + ps.absolute(meta.root) + " ./mirror --bundle bundle.json";
    section.hidden = false;

    copy.addEventListener("click", function () {
      var text = textarea.value;
      var n = text ? text.trim().split("\n").length : 0;
      var done = function () { copyStatus.textContent = n ? "Copied " + n + " URLs (" + n / 2 + " files and their signatures)." : "Nothing to copy."; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(); done(); });
      } else {
        fallbackCopy();
        done();
      }
    });
    function fallbackCopy() {
      textarea.select();
      document.execCommand("copy");
    }

    function setDownloads(picks) {
      blobs.forEach(function (u) { URL.revokeObjectURL(u); });
      blobs = [];
      var files = {
        "urls.txt": ps.urlList(picks),
        "SHA256SUMS": ps.sha256sums(picks),
        "bundle.json": JSON.stringify(meta.bundle(picks.map(function (p) { return p.id; })), null, 1) + "\n"
      };
      downloads.forEach(function (a) {
        var u = URL.createObjectURL(new Blob([files[a.dataset.download]], { type: "text/plain" }));
        blobs.push(u);
        a.href = u;
      });
    }

    return function show(picks) {
      rows.replaceChildren();
      var sum = 0;
      picks.forEach(function (p) {
        sum += p.size;
        var tr = el("tr");
        var th = el("th");
        th.scope = "row";
        th.append(link(p.page, p.display), " " + p.version + " ", el("small", p.id));
        if (p.remove) {
          var b = el("button", "Remove");
          b.type = "button";
          b.setAttribute("aria-label", "Remove " + p.id);
          b.addEventListener("click", p.remove);
          th.append(" ", b);
        }
        var size = el("td", ps.humanSize(p.size));
        var sig = el("td");
        var s = link(p.sig, baseName(p.sig));
        s.download = "";
        sig.append(s);
        tr.append(th, size, sig);
        rows.append(tr);
      });
      total.textContent = ps.humanSize(sum) + " in " + picks.length + (picks.length === 1 ? " pack" : " packs");
      list.hidden = picks.length === 0;
      empty.hidden = picks.length !== 0;
      textarea.value = ps.urlList(picks);
      copyStatus.textContent = "";
      setDownloads(picks);
    };
  };
})();
