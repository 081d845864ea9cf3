// Recent requests, from GET /requests where the server has it; hidden where it answers 404.

import { json } from "./api.js";
import { statusName, when } from "./format.js";

const section = document.getElementById("recent");
const body = document.querySelector("#recent-table tbody");
const filter = document.getElementById("recent-status");
const more = document.getElementById("recent-more");
const PAGE = 20;

let available = true;
let cursor = null;

export function bindRecent() {
  filter.addEventListener("change", () => loadRecent());
  more.addEventListener("click", () => loadRecent(cursor));
}

export async function loadRecent(after = null) {
  if (!available) return;
  const params = new URLSearchParams({ limit: PAGE });
  if (filter.value) params.set("status", filter.value);
  if (after) params.set("cursor", after);
  let page;
  try {
    page = await json(`/requests?${params}`);
  } catch (error) {
    // An API without the list (404) keeps it hidden for good; other failures hide it until the next visit.
    available = error.status !== 404;
    section.hidden = true;
    return;
  }
  const rows = page.requests.map(row);
  if (after) body.append(...rows);
  else body.replaceChildren(...rows);
  cursor = page.nextCursor;
  more.hidden = !cursor;
  section.hidden = false;
}

function row(summary) {
  const tr = document.createElement("tr");
  const link = document.createElement("a");
  link.href = `#/requests/${summary.requestId}`;
  link.textContent = summary.requestId;
  const images = summary.images || {};
  const done = (images.optimized ?? 0) + (images.failed ?? 0);
  const cells = [link, statusName(summary.status), `${done} of ${images.total ?? "?"}`, when(summary.createdAt)];
  for (const value of cells) {
    const td = document.createElement("td");
    td.append(value);
    tr.append(td);
  }
  tr.cells[0].classList.add("id");
  return tr;
}
