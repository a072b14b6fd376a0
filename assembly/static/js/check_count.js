// The "check the count" page: the ballots file can be dropped on the form, and its SHA-256
// fingerprint is computed here, in the browser, and compared with the published one before the
// file is sent to be recounted. Without JavaScript the form works the same (choose, then send).
(function () {
  var form = document.querySelector("form.check-count");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var zone = form.querySelector(".drop-zone");
  var status = document.getElementById("browser-fingerprint");
  var published = (document.getElementById("published-fingerprint") || {}).textContent || "";

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function fingerprint(file) {
    if (!file || !window.crypto || !window.crypto.subtle || !file.arrayBuffer) { return; }
    file.arrayBuffer().then(function (bytes) {
      return window.crypto.subtle.digest("SHA-256", bytes);
    }).then(function (digest) {
      var value = hex(digest);
      var same = value === published.trim();
      status.textContent = (same ? status.dataset.same : status.dataset.different) + " " + value;
      status.className = "flash " + (same ? "flash-success" : "flash-error");
      status.hidden = false;
    });
  }

  input.addEventListener("change", function () { fingerprint(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      fingerprint(input.files[0]);
    }
  });
})();
