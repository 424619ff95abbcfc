// WebAuthn ceremonies: register a passkey or security key, log in with one
// (alone, or as the second factor of a login), open sudo mode with one.
// The server speaks WebAuthn's JSON (binary values in base64url); the
// browser's API takes and gives ArrayBuffers: the conversions are here.
// Buttons stay hidden where the browser has no WebAuthn; every other part
// of these pages works without this script.
"use strict";

(() => {
  const toBase64url = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  const fromBase64url = (value) => {
    const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  };

  const withIds = (list) => (list || []).map((item) => ({ ...item, id: fromBase64url(item.id) }));

  const creationOptions = (json) => ({
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  });

  const requestOptions = (json) => ({
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: withIds(json.allowCredentials),
  });

  const credentialJSON = (credential) => {
    const response = credential.response;
    const data = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      data.response.attestationObject = toBase64url(response.attestationObject);
      data.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      data.response.authenticatorData = toBase64url(response.authenticatorData);
      data.response.signature = toBase64url(response.signature);
      data.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return data;
  };

  const csrfToken = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  const post = async (url, body) => {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    if (!response.ok) {
      const message = (data && data.message) || `The server answered ${response.status}.`;
      throw new Error(message);
    }
    return data;
  };

  const say = (button, text) => {
    const status = document.getElementById(button.dataset.status || "webauthn-status");
    if (status) status.textContent = text;
  };

  const ceremonyError = (error) => (error && error.name === "NotAllowedError"
    ? "The security key was not used (cancelled or timed out)."
    : (error && error.message) || "Something went wrong.");

  const logIn = async (button) => {
    const options = await post("/api/login/webauthn/options");
    const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    await post("/api/login/webauthn", { credential: credentialJSON(credential) });
    window.location.assign(button.dataset.next || "/");
  };

  const sudo = async (button) => {
    const options = await post("/api/sudo/webauthn/options");
    const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    await post("/api/sudo", { webauthn: credentialJSON(credential) });
    window.location.assign(button.dataset.next || "/");
  };

  const register = async (button) => {
    const field = document.getElementById("webauthn-name");
    const name = (field && field.value.trim()) || "Security key";
    const options = await post("/api/account/webauthn/options");
    const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
    const added = await post("/api/account/webauthn", { name, credential: credentialJSON(credential) });
    if (added.recovery_codes) {
      // The account's first factor: its recovery codes, shown this once.
      const list = document.getElementById("webauthn-codes");
      list.replaceChildren(...added.recovery_codes.map((code) => {
        const item = document.createElement("li");
        const text = document.createElement("code");
        text.textContent = code;
        item.append(text);
        return item;
      }));
      document.getElementById("webauthn-codes-section").hidden = false;
      say(button, `“${added.name}” is added.`);
      return;
    }
    window.location.assign(button.dataset.next || window.location.pathname);
  };

  const ceremonies = { login: logIn, sudo, register };

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    for (const button of document.querySelectorAll("[data-webauthn]")) {
      const ceremony = ceremonies[button.dataset.webauthn];
      if (!ceremony) continue;
      button.hidden = false;
      button.addEventListener("click", async (event) => {
        event.preventDefault();
        button.disabled = true;
        say(button, "Waiting for your security key…");
        try {
          await ceremony(button);
        } catch (error) {
          say(button, ceremonyError(error));
        } finally {
          button.disabled = false;
        }
      });
    }
  });
})();
