"""Where outputs live: a local folder, or an object store (S3 and every S3-compatible server, GCS)."""
