-- Makes wrk print one machine-readable line: requests, duration (us), errors, non-2xx, p50, p99, max (us).
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("BENCH %d %d %d %d %d %d %d\n", summary.requests, summary.duration, errors,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency.max))
end
