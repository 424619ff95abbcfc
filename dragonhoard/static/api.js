// The JSON API from the pages' own scripts, with the session cookie. Every
// unsafe request carries the CSRF token from the page's <meta> tag; an
// expired login goes back to the login page, and comes back here after it.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") options.headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    window.location = `/login?next=${encodeURIComponent(window.location.pathname)}`;
    return null;
  }
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const fields = data && data.fields ? Object.entries(data.fields).map(([k, v]) => `${k}: ${v}`).join("; ") : "";
    throw new Error(fields || (data && data.message) || response.statusText);
  }
  return data;
}
