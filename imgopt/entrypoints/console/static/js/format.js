// How numbers read on the page: bytes, savings, pixel sizes, statuses, times.

const UNITS = ["B", "kB", "MB", "GB", "TB"];

export function bytes(count) {
  if (count == null) return "";
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${count} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

export function exactBytes(count) {
  return `${count.toLocaleString("en-US")} bytes`;
}

// The share saved, as the API's own figures give it: 1 - bytesOut / bytesIn, one decimal.
export function saving(bytesIn, bytesOut) {
  if (!bytesIn) return null;
  return ((1 - bytesOut / bytesIn) * 100).toFixed(1);
}

export function pixels(width, height) {
  return width && height ? `${width} × ${height} px` : "";
}

const STATUS_NAMES = {
  pending: "Waiting",
  processing: "Working",
  optimized: "Optimized",
  completed: "Completed",
  completed_with_errors: "Completed with errors",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function statusName(status) {
  return STATUS_NAMES[status] || status;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}
