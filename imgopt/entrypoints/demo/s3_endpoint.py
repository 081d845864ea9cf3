"""An S3-compatible server and the identity that uses it: what the standard AWS_* variables name."""

from dataclasses import dataclass
from datetime import timedelta

import httpx

# A server being started or stopped must fail soon, not after obstore's three minutes of retries.
_QUICK_RETRY = {"max_retries": 2, "retry_timeout": timedelta(seconds=5)}


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    @property
    def environment(self) -> dict[str, str]:
        """The standard variables that point any S3 client, imgopt's included, at this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.url,
        }

    def store(self, bucket: str):
        """An obstore S3Store on `bucket` of this server."""
        from obstore.store import S3Store

        return S3Store(
            bucket,
            endpoint=self.url,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            region=self.region,
            client_options={"allow_http": self.url.startswith("http://")},
            retry_config=_QUICK_RETRY,
        )

    def create_bucket(self, name: str) -> None:
        """CreateBucket, as a presigned PUT of the bucket's root: obstore signs requests but manages no buckets."""
        import obstore

        url = obstore.sign(self.store(name), "PUT", "", timedelta(minutes=5))
        response = httpx.put(url, timeout=10)
        if response.status_code not in (200, 409):
            raise RuntimeError(f"could not create bucket {name}: HTTP {response.status_code} {response.text[:300]}")

    def round_trip(self, bucket: str) -> None:
        """Create `bucket`, write an object and read it back: that the server works, not merely answers."""
        import obstore

        self.create_bucket(bucket)
        store = self.store(bucket)
        obstore.put(store, "probe", b"ready", use_multipart=False)
        if bytes(obstore.get(store, "probe").bytes()) != b"ready":
            raise RuntimeError(f"{self.url}: the probe object came back different")
