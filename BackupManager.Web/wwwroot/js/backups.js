// Uploads go straight from the browser to the HTTP endpoint (streamed to disk), never through the Blazor circuit.
window.backupManager = {
  upload: async function (inputId, antiforgeryToken) {
    const input = document.getElementById(inputId);
    if (!input || !input.files || input.files.length === 0) {
      return { ok: false, status: 0, detail: "Choose a backup file (.zip) first.", filename: null };
    }
    const file = input.files[0];
    let response;
    try {
      response = await fetch("api/v1/backups/upload", {
        method: "POST",
        body: file,
        credentials: "same-origin",
        headers: { "Content-Type": "application/zip", "X-CSRF-TOKEN": antiforgeryToken || "" },
      });
    } catch (e) {
      return { ok: false, status: 0, detail: "The upload did not reach the server: " + e, filename: null };
    }
    let body = null;
    try { body = await response.json(); } catch { /* not JSON */ }
    input.value = "";
    return {
      ok: response.ok,
      status: response.status,
      detail: body && body.detail ? body.detail : null,
      filename: body && body.data ? body.data.filename : null,
    };
  },
};

// The upload control: the file chosen in MudFileUpload's input goes straight to the endpoint (never through the circuit),
// with progress reported to the page and a cancel that aborts the request (the server then keeps nothing).
window.backupManager.current = null;
window.backupManager.uploadWithProgress = function (inputSelector, antiforgeryToken, dotnet) {
  return new Promise(function (resolve) {
    const input = document.querySelector(inputSelector);
    if (!input || !input.files || input.files.length === 0) {
      resolve({ ok: false, status: 0, detail: "Choose a backup file (.zip) first.", filename: null, cancelled: false });
      return;
    }
    const file = input.files[0];
    const xhr = new XMLHttpRequest();
    window.backupManager.current = xhr;
    let last = 0;
    xhr.upload.onprogress = function (e) {
      const now = Date.now();
      if (e.lengthComputable && (now - last > 250 || e.loaded === e.total)) { last = now; dotnet.invokeMethodAsync("UploadProgress", e.loaded, e.total); }
    };
    const finish = function (result) { window.backupManager.current = null; input.value = ""; resolve(result); };
    xhr.onload = function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      finish({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, detail: body && body.detail ? body.detail : null,
               filename: body && body.data ? body.data.filename : null, cancelled: false });
    };
    xhr.onerror = function () { finish({ ok: false, status: 0, detail: "The upload did not reach the server (network error).", filename: null, cancelled: false }); };
    xhr.onabort = function () { finish({ ok: false, status: 0, detail: null, filename: null, cancelled: true }); };
    xhr.open("POST", "api/v1/backups/upload");
    xhr.setRequestHeader("Content-Type", "application/zip");
    xhr.setRequestHeader("X-CSRF-TOKEN", antiforgeryToken || "");
    xhr.withCredentials = true;
    xhr.send(file);
  });
};
window.backupManager.cancelUpload = function () {
  if (window.backupManager.current) window.backupManager.current.abort();
};

// Dialogs give the focus back to what opened them (MudBlazor leaves it on the body when a dialog closes).
(function () {
  let opener = null;
  document.addEventListener("focusin", function (e) {
    if (!e.target.closest(".mud-dialog-container")) opener = e.target;
  });
  new MutationObserver(function () {
    if (opener && !document.querySelector(".mud-dialog-container") && document.contains(opener)
      && (document.activeElement === document.body || document.activeElement === null)) {
      opener.focus();
    }
  }).observe(document.body, { childList: true, subtree: true });
})();
