// The project page, drawn from the JSON API with the session cookie. It shows
// only the controls the viewer's role allows (the API refuses the rest
// anyway). Every unsafe request carries the CSRF token from the <meta> tag.
"use strict";

// api() and csrfToken() come from api.js, loaded first.

function cell(label, content) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (content instanceof Node) td.append(content); else td.textContent = content;
  return td;
}

function button(text, onClick, className) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (className) b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

function say(id, text) {
  document.getElementById(id).textContent = text;
}

class ProjectPage {
  constructor(root) {
    this.root = root;
    this.slug = root.dataset.slug;
    this.role = root.dataset.role;
    this.admin = root.dataset.admin === "true";
    this.me = Number(root.dataset.userId);
    this.base = `/api/projects/${encodeURIComponent(this.slug)}`;
  }

  canEdit(t) { return this.admin || this.role === "editor" || this.role === "owner" || t.owner_id === this.me; }
  canDelete(t) { return this.admin || this.role === "owner" || t.owner_id === this.me; }
  manages() { return this.admin || this.role === "owner"; }

  async run(action, errorId = "status") {
    try {
      await action();
      say(errorId, "");
      await this.load();
    } catch (error) {
      say(errorId, error.message);
    }
  }

  async load() {
    await Promise.all([this.loadTreasures(), this.loadMembers()]);
  }

  async loadTreasures() {
    const data = await api("GET", `${this.base}/treasures?per_page=100`);
    const body = this.root.querySelector("#treasures tbody");
    body.replaceChildren();
    for (const t of data.items) {
      const tr = document.createElement("tr");
      const name = cell("Name", t.name);
      const actions = document.createElement("span");
      if (this.canEdit(t)) {
        actions.append(button(`Edit ${t.name}`, () => this.editTreasure(t, name)), " ");
        actions.append(button(t.is_published ? `Unpublish ${t.name}` : `Publish ${t.name}`,
          () => this.run(() => api("PATCH", `/api/treasures/${t.id}`, { is_published: !t.is_published }))), " ");
      }
      if (this.canDelete(t)) {
        actions.append(button(`Delete ${t.name}`, () => {
          if (window.confirm(`Delete “${t.name}”?`)) this.run(() => api("DELETE", `/api/treasures/${t.id}`));
        }, "danger"));
      }
      tr.append(name, cell("Value", String(t.value)), cell("Cool", String(t.cool_factor)),
        cell("Published", t.is_published ? "yes" : "no"), cell("Actions", actions));
      body.append(tr);
    }
    say("status", `${data.total} treasure${data.total === 1 ? "" : "s"}.`);
  }

  editTreasure(t, nameCell) {
    const input = document.createElement("input");
    input.type = "text";
    input.value = t.name;
    input.setAttribute("aria-label", `New name of ${t.name}`);
    const save = button("Save", () => this.run(() => api("PATCH", `/api/treasures/${t.id}`, { name: input.value })));
    nameCell.replaceChildren(input, " ", save);
    input.focus();
  }

  async loadMembers() {
    const data = await api("GET", `${this.base}/members?per_page=100`);
    const body = this.root.querySelector("#members tbody");
    body.replaceChildren();
    for (const m of data.items) {
      const tr = document.createElement("tr");
      const actions = document.createElement("span");
      let role = m.role;
      if (this.manages()) {
        const select = document.createElement("select");
        select.setAttribute("aria-label", `Role of ${m.username}`);
        for (const r of ["viewer", "editor", "owner"]) {
          const option = new Option(r, r, false, r === m.role);
          select.append(option);
        }
        role = select;
        actions.append(button(`Change the role of ${m.username}`, () => this.run(
          () => api("PUT", `${this.base}/members/${m.user_id}`, { role: select.value }), "member-error")), " ");
        actions.append(button(`Remove ${m.username}`, () => this.run(
          () => api("DELETE", `${this.base}/members/${m.user_id}`), "member-error"), "danger"));
      }
      tr.append(cell("User", m.username), cell("Role", role), cell("Actions", actions));
      body.append(tr);
    }
  }

  async addMember(form) {
    const username = form.elements.username.value.trim();
    const found = await api("GET", `/api/users?username=${encodeURIComponent(username)}`);
    if (!found.items.length) throw new Error(`Nobody has the username “${username}”.`);
    await api("PUT", `${this.base}/members/${found.items[0].id}`, { role: form.elements.role.value });
    form.reset();
  }

  wire() {
    const newTreasure = document.getElementById("new-treasure");
    if (newTreasure) newTreasure.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      this.run(async () => {
        await api("POST", `${this.base}/treasures`, {
          name: form.elements.name.value,
          value: Number.parseInt(form.elements.value.value || "0", 10),
        });
        form.reset();
      }, "treasure-error");
    });
    const addMember = document.getElementById("add-member");
    if (addMember) addMember.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(() => this.addMember(event.target), "member-error");
    });
    const edit = document.getElementById("edit-project");
    if (edit) edit.addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.target;
      this.run(async () => {
        const project = await api("PATCH", this.base, {
          name: form.elements.name.value, description: form.elements.description.value,
          require_mfa: form.elements.require_mfa.checked,
        });
        say("project-name", project.name);
        say("project-description", project.description);
      }, "project-error");
    });
    const remove = document.getElementById("delete-project");
    if (remove) remove.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!window.confirm("Delete this project, its treasures and its memberships?")) return;
      try {
        await api("DELETE", this.base);
        window.location = "/";
      } catch (error) {
        say("project-error", error.message);
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("project-page");
  if (!root) return;
  const page = new ProjectPage(root);
  page.wire();
  page.load().catch((error) => say("status", error.message));
});
