// Times sharp on a list of files with a fixed number of images in flight; reads a job as JSON on stdin.
//
// Layout for "two workers": sharp.concurrency(1) gives each image one libvips thread, and two
// loops each keep one image in flight on a libuv pool of UV_THREADPOOL_SIZE=2 threads (set by the
// caller). That is two images at a time, one thread each — the same as two Python threads each
// optimizing one image, with no intra-image parallelism on either side.
"use strict";

const fs = require("fs");
const path = require("path");

const TASKS = {
  // The original system's optimizer call, verbatim.
  original: (sharp, buffer) => sharp(buffer).jpeg({ quality: 50 }).toBuffer(),
  // sharp's published benchmark task.
  resize: (sharp, buffer) => sharp(buffer).resize(720, 588, { kernel: "lanczos3" }).jpeg({ quality: 80 }).toBuffer(),
  // The reference for quality=auto: sharp at a "high" quality.
  q80: (sharp, buffer) => sharp(buffer).jpeg({ quality: 80 }).toBuffer(),
};

async function main() {
  const job = JSON.parse(fs.readFileSync(0, "utf8"));
  const sharp = require(require.resolve("sharp", { paths: [job.nodeDir] }));
  if (job.versionsOnly) {
    process.stdout.write(JSON.stringify({ ...sharp.versions, node: process.versions.node }));
    return;
  }
  sharp.concurrency(job.threadsPerImage);
  if (job.cache === false) sharp.cache(false);
  const task = TASKS[job.task];
  const inputs = job.files.map((file) => fs.readFileSync(file));
  for (const buffer of inputs.slice(0, job.warmup)) await task(sharp, buffer);

  const outputs = new Array(inputs.length);
  let next = 0;
  async function worker() {
    while (next < inputs.length) {
      const index = next++;
      outputs[index] = await task(sharp, inputs[index]);
    }
  }
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: job.workers }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);

  if (job.saveDir) {
    fs.mkdirSync(job.saveDir, { recursive: true });
    outputs.forEach((output, index) => fs.writeFileSync(path.join(job.saveDir, `${index}.jpg`), output));
  }
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      count: inputs.length,
      bytes: outputs.map((output) => output.length),
      concurrency: sharp.concurrency(),
      threadpool: process.env.UV_THREADPOOL_SIZE || null,
    }),
  );
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
