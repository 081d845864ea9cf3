// The live view of one request: summary, progress, image grid; it polls until the request finishes.

import { FINISHED, json, request } from "./api.js";
import { ImageGrid } from "./cards.js";
import { bytes, exactBytes, saving, statusName } from "./format.js";

const POLL_MS = 1000;
const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);
const grid = new ImageGrid($("grid"));

let current = null;

export function bindRequest({ onError }) {
  $("more-images").addEventListener("click", () => {
    if (!current) return;
    current.pages += 1;
    loadImages(current).catch((error) => onError(error.message));
  });
  $("failed-only").addEventListener("change", (event) => $("grid").classList.toggle("failed-only", event.target.checked));
  $("download").addEventListener("click", () => current && download(current.id).catch((error) => onError(error.message)));
}

export function showRequest(id, receipt, onError) {
  stopRequest();
  current = { id, pages: 1, seen: null, timer: null, onError };
  grid.clear();
  $("request-id").textContent = id;
  $("download").hidden = true;
  $("more-images").hidden = true;
  showSecret(receipt);
  tick(current);
}

export function stopRequest() {
  if (current) clearTimeout(current.timer);
  current = null;
}

async function tick(view) {
  try {
    const status = await json(`/status/${view.id}`);
    if (view !== current) return;
    showSummary(status);
    const seen = [status.status, status.images.optimized, status.images.failed, status.images.processing].join();
    if (seen !== view.seen) {
      await loadImages(view);
      view.seen = seen;
    }
    if (FINISHED.has(status.status)) {
      $("download").hidden = false;
      $("request-live").textContent = `Finished: ${statusName(status.status).toLowerCase()}.`;
      return;
    }
  } catch (error) {
    if (view !== current) return;
    view.onError(error.message);
    if (error.status >= 400 && error.status < 500) return; // unknown id or refused key: polling cannot help
  }
  if (view === current) view.timer = setTimeout(() => tick(view), POLL_MS);
}

// The detail pages wanted so far, in turn: each names the next by its cursor, the last by null.
async function loadImages(view) {
  let cursor = null;
  for (let page = 0; page < view.pages; page += 1) {
    const params = new URLSearchParams({ details: "true", limit: PAGE_SIZE });
    if (cursor) params.set("cursor", cursor);
    const status = await json(`/status/${view.id}?${params}`);
    if (view !== current) return;
    grid.show(status.details.products);
    cursor = status.details.nextCursor ?? null;
    if (!cursor) break;
  }
  $("more-images").hidden = !cursor;
}

function showSummary(status) {
  const images = status.images;
  const done = images.optimized + images.failed;
  const badge = $("request-status");
  badge.textContent = statusName(status.status);
  badge.dataset.status = status.status;
  $("progress").max = Math.max(images.total, 1);
  $("progress").value = done;
  const percent = images.total ? Math.floor((done / images.total) * 100) : 100;
  $("progress-text").textContent = `${done} of ${images.total} images done (${percent}%)`;
  for (const name of ["optimized", "failed", "pending", "processing"]) $(`count-${name}`).textContent = images[name];
  $("count-products").textContent = `${status.products.finished} of ${status.products.total}`;
  showBytes(status.bytesIn, status.bytesOut);
}

function showBytes(bytesIn, bytesOut) {
  const line = $("bytes");
  line.dataset.bytesIn = bytesIn;
  line.dataset.bytesOut = bytesOut;
  const share = saving(bytesIn, bytesOut);
  line.replaceChildren(
    "Before ", sized(bytesIn), " → after ", sized(bytesOut),
    ...(share === null ? [] : [" · ", Object.assign(document.createElement("span"), { className: "saved", textContent: `${share}% saved` })]),
  );
}

function sized(count) {
  return Object.assign(document.createElement("strong"), { textContent: bytes(count), title: exactBytes(count) });
}

function showSecret(receipt) {
  const box = $("webhook-secret");
  box.hidden = !receipt?.webhook;
  if (!receipt?.webhook) return;
  const code = document.createElement("code");
  code.textContent = receipt.webhook.secret;
  box.replaceChildren("Webhook secret for ", receipt.webhook.webhookUrl, " — shown only now, keep it: ", code);
}

async function download(id) {
  const blob = await (await request(`/status/${id}/output.csv`)).blob();
  const link = Object.assign(document.createElement("a"), {
    href: URL.createObjectURL(blob),
    download: `imgopt-${id}.csv`,
  });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}
