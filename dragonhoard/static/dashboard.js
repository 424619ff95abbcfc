// The dashboard, drawn from the JSON API with the session cookie. Every
// unsafe request carries the CSRF token from the page's <meta> tag.
"use strict";

// api() and csrfToken() come from api.js, loaded first.

function cell(label, text) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

async function loadTreasures(root) {
  const project = root.dataset.project;
  const path = project
    ? `/api/projects/${encodeURIComponent(project)}/treasures?per_page=100`
    : `/api/treasures?owner=${root.dataset.userId}&per_page=100`;
  const data = await api("GET", path);
  const body = document.querySelector("#treasures tbody");
  body.replaceChildren();
  for (const t of data.items) {
    const tr = document.createElement("tr");
    tr.dataset.id = t.id;
    tr.append(cell("Name", t.name), cell("Value", t.value), cell("Cool", t.cool_factor),
      cell("Project", t.project || ""), cell("Published", t.is_published ? "yes" : "no"));
    const actions = document.createElement("td");
    actions.dataset.label = "Actions";
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.textContent = t.is_published ? "Unpublish" : "Publish";
    toggle.addEventListener("click", () => act(root, () => api("PATCH", `/api/treasures/${t.id}`, { is_published: !t.is_published })));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "danger";
    remove.textContent = "Delete";
    remove.addEventListener("click", () => {
      if (window.confirm(`Delete “${t.name}”?`)) act(root, () => api("DELETE", `/api/treasures/${t.id}`));
    });
    actions.append(toggle, " ", remove);
    tr.append(actions);
    body.append(tr);
  }
  document.getElementById("status").textContent = `${data.total} treasure${data.total === 1 ? "" : "s"}.`;
}

async function loadProjects(root) {
  const data = await api("GET", "/api/projects?per_page=100");
  const list = document.getElementById("projects");
  const select = document.getElementById("project");
  list.replaceChildren();
  for (const p of data.items) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/projects/${encodeURIComponent(p.slug)}`;
    link.textContent = p.name;
    li.append(link, ` (${p.slug}) — ${p.role || "admin"}`);
    list.append(li);
    if (p.slug !== root.dataset.project) {
      const option = document.createElement("option");
      option.value = p.slug;
      option.textContent = p.name;
      select.append(option);
    }
  }
}

async function act(root, action) {
  try {
    await action();
    await loadTreasures(root);
  } catch (error) {
    document.getElementById("status").textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("dashboard");
  if (!root) return;
  document.getElementById("new-treasure").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = {
      name: form.elements.name.value,
      value: Number.parseInt(form.elements.value.value || "0", 10),
      cool_factor: Number.parseInt(form.elements.cool_factor.value || "0", 10),
      is_published: form.elements.is_published.checked,
    };
    if (root.dataset.project) body.project = root.dataset.project;
    try {
      await api("POST", "/api/treasures", body);
      form.reset();
      document.getElementById("treasure-error").textContent = "";
      await loadTreasures(root);
    } catch (error) {
      document.getElementById("treasure-error").textContent = error.message;
    }
  });
  document.getElementById("new-project").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      await api("POST", "/api/projects", { slug: form.elements.slug.value, name: form.elements.name.value });
      form.reset();
      document.getElementById("project-error").textContent = "";
      await loadProjects(root);
    } catch (error) {
      document.getElementById("project-error").textContent = error.message;
    }
  });
  loadTreasures(root).catch((error) => { document.getElementById("status").textContent = error.message; });
  loadProjects(root).catch((error) => { document.getElementById("status").textContent = error.message; });
});
