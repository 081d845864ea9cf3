// The upload form: a CSV chosen or dropped, the options, and a refused file's problems in a table.

import { Problem, json } from "./api.js";

const form = document.getElementById("upload-form");
const zone = document.getElementById("drop-zone");
const fileInput = document.getElementById("csv-file");
const chosen = document.getElementById("chosen-file");
const button = document.getElementById("upload-button");
const refused = document.getElementById("refused");
const OPTION_FIELDS = ["quality", "maxWidth", "maxHeight", "format", "webhookUrl"];

export function bindUpload({ onAccepted, onError }) {
  fileInput.addEventListener("change", showChosen);
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) {
      fileInput.files = event.dataTransfer.files;
      showChosen();
    }
  });
  // A file dropped beside the zone would otherwise replace the page.
  for (const name of ["dragover", "drop"]) document.addEventListener(name, (event) => event.preventDefault());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    refused.hidden = true;
    const [file] = fileInput.files;
    if (!file) {
      onError("Choose a CSV file first.");
      fileInput.focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Uploading…";
    try {
      onAccepted(await json("/upload", { method: "POST", body: formData(file) }));
    } catch (error) {
      if (error instanceof Problem && error.code === "invalid_csv") showRefused(error);
      else onError(error.message);
    } finally {
      button.disabled = false;
      button.textContent = "Upload";
    }
  });
}

export function resetUpload() {
  refused.hidden = true;
}

function formData(file) {
  const data = new FormData();
  data.append("file", file, file.name);
  for (const name of OPTION_FIELDS) {
    const value = form.elements[name].value.trim();
    if (value && !(name === "format" && value === "original")) data.append(name, value);
  }
  return data;
}

function showChosen() {
  const [file] = fileInput.files;
  chosen.textContent = file ? `Chosen: ${file.name} (${file.size.toLocaleString("en-US")} bytes)` : "";
}

function showRefused(problem) {
  document.getElementById("refused-detail").textContent = problem.message;
  const rows = problem.errors.map((error) => {
    const row = document.createElement("tr");
    for (const value of [error.line, error.column || "—", error.message]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    return row;
  });
  refused.querySelector("tbody").replaceChildren(...rows);
  const more = document.getElementById("refused-more");
  more.hidden = problem.errorCount <= problem.errors.length;
  more.textContent = `…and ${problem.errorCount - problem.errors.length} more problems not listed.`;
  refused.hidden = false;
  refused.scrollIntoView({ block: "start" });
  document.getElementById("refused-title").focus?.();
}
