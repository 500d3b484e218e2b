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
