// The grid of images: one card per image, before and after side by side, updated in place.

import { bytes, exactBytes, pixels, saving, statusName } from "./format.js";

const template = document.getElementById("card-template");

export class ImageGrid {
  constructor(list) {
    this.list = list;
    this.cards = new Map();
  }

  clear() {
    this.cards.clear();
    this.list.replaceChildren();
  }

  show(products) {
    for (const product of products) {
      for (const image of product.images) {
        const id = `${product.line}-${image.position}`;
        let card = this.cards.get(id);
        if (!card) {
          card = newCard(product, image);
          this.cards.set(id, card);
          this.list.append(card);
        }
        update(card, product, image);
      }
    }
  }
}

function newCard(product, image) {
  const card = template.content.firstElementChild.cloneNode(true);
  const number = image.position + 1;
  card.dataset.line = product.line;
  card.dataset.position = image.position;
  card.querySelector(".name").textContent = product.name;
  card.querySelector(".where").textContent = `line ${product.line}, image ${number}`;
  const before = card.querySelector(".before");
  const beforeImage = before.querySelector("img");
  beforeImage.alt = `Before: ${product.name}, image ${number}`;
  beforeImage.addEventListener("load", () => {
    before.querySelector(".pixels").textContent = pixels(beforeImage.naturalWidth, beforeImage.naturalHeight);
    before.querySelector(".pixels").title = "Measured by your browser";
  });
  beforeImage.addEventListener("error", () => {
    beforeImage.hidden = true;
    before.querySelector(".no-picture").hidden = false;
    before.querySelector(".pixels").textContent = "could not be loaded here";
  });
  setSource(before, image.inputUrl);
  card.querySelector(".after img").alt = `After: ${product.name}, image ${number}`;
  return card;
}

function update(card, product, image) {
  card.dataset.status = image.status;
  const before = card.querySelector(".before");
  const after = card.querySelector(".after");
  setBytes(before, image.bytesIn);
  setBytes(after, image.bytesOut);
  if (image.outputUrl) {
    setSource(after, image.outputUrl);
    after.querySelector(".pixels").textContent = pixels(image.width, image.height);
  } else if (image.status !== "failed") {
    after.querySelector(".bytes").textContent = `${statusName(image.status)}…`;
  }
  const share = image.outputUrl ? saving(image.bytesIn, image.bytesOut) : null;
  const line = card.querySelector(".saving");
  line.hidden = share === null;
  line.classList.toggle("grew", Number(share) < 0);
  line.textContent = Number(share) < 0 ? `${-share}% larger` : `${share}% saved`;
  const failure = card.querySelector(".failure");
  failure.hidden = image.status !== "failed";
  failure.textContent = `Failed: ${image.failureReason || "no reason was recorded"}`;
  after.hidden = image.status === "failed";
}

function setSource(figure, url) {
  const image = figure.querySelector("img");
  if (image.getAttribute("src") === url) return;
  image.src = url;
  figure.querySelector("a").href = url;
}

function setBytes(figure, count) {
  const label = figure.querySelector(".bytes");
  label.textContent = bytes(count);
  label.title = count == null ? "" : exactBytes(count);
}
