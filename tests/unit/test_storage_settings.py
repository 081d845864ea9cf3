"""IMGOPT_STORAGE_URL and IMGOPT_STORAGE_PUBLIC_URL: checked at start, turned into the storage they name."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from imgopt.adapters.storage.filesystem import FilesystemStorage
from imgopt.adapters.storage.locations import cloud_variables, open_storage
from imgopt.bootstrap.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("/var/lib/imgopt", "expected file:///absolute/path"),
        ("ftp://host/files", "expected file:///absolute/path"),
        ("file://relative/files", "needs an absolute path"),
        ("s3://", "names no bucket"),
        ("gs:///prefix", "names no bucket"),
        ("s3://bucket/prefix?region=eu", "may not carry a query"),
    ],
)
def test_a_storage_url_that_cannot_be_opened_stops_the_start_naming_the_variable(value, complaint):
    with pytest.raises(SettingsError, match=complaint) as refused:
        Settings.from_env({"IMGOPT_STORAGE_URL": value})

    assert "IMGOPT_STORAGE_URL" in str(refused.value)


def test_a_public_storage_url_must_be_http():
    with pytest.raises(SettingsError, match="IMGOPT_STORAGE_PUBLIC_URL must be an http"):
        Settings.from_env({"IMGOPT_STORAGE_PUBLIC_URL": "cdn.example.com"})


def test_outputs_default_to_the_files_folder_of_the_data_directory_served_by_the_api(tmp_path):
    settings = Settings(data_dir=tmp_path, public_base_url="https://imgopt.example.com/")

    assert settings.output_storage_url == (tmp_path / "files").resolve().as_uri()
    assert settings.files_public_url == "https://imgopt.example.com/files"


def test_a_cdn_in_front_of_the_storage_is_the_base_of_output_urls():
    settings = Settings(storage_url="s3://bucket/outputs", storage_public_url="https://cdn.example.com/outputs/")

    assert settings.files_public_url == "https://cdn.example.com/outputs"


def test_a_file_url_opens_the_folder_it_names(tmp_path):
    storage = open_storage((tmp_path / "out puts").as_uri(), "http://imgopt.test/files", environ={})

    assert isinstance(storage, FilesystemStorage) and storage.root == Path(tmp_path / "out puts")


def test_an_s3_url_takes_bucket_and_prefix_and_allows_plain_http_only_when_the_endpoint_says_so():
    local = {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8333", "AWS_ENDPOINT_URL": "https://ignored.example.com"}

    plain = open_storage("s3://outputs/imgopt/prod", "http://imgopt.test/files", environ=local)
    secure = open_storage(
        "s3://outputs", "http://imgopt.test/files", environ={"AWS_ENDPOINT_URL": "https://r2.example"}
    )

    assert (plain._store.config["bucket"], plain._store.prefix) == ("outputs", "imgopt/prod")
    assert plain._store.config["endpoint"] == "http://127.0.0.1:8333"
    assert plain._store.client_options["allow_http"] == "true"
    assert secure._store.client_options["allow_http"] == "false"


def test_a_gs_url_opens_google_cloud_storage_under_its_prefix():
    storage = open_storage("gs://catalogue-images/optimized", "https://cdn.example.com", environ={})

    assert type(storage._store).__name__ == "GCSStore"
    assert storage._store.prefix == "optimized"
    assert storage.url_for("r/1.jpg") == "https://cdn.example.com/r/1.jpg"


def test_google_cloud_storage_presigns_with_the_service_account_key_without_asking_the_network(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = {"type": "service_account", "client_email": "imgopt@catalogue.iam.gserviceaccount.com"}
    (tmp_path / "key.json").write_text(json.dumps({**account, "private_key": pem.decode(), "private_key_id": "k1"}))
    environ = {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "key.json")}
    storage = open_storage("gs://catalogue-images/optimized", "https://cdn.example.com", environ=environ)

    url = urlsplit(storage.signed_url("r/1.jpg"))

    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("storage.googleapis.com", "/catalogue-images/optimized/r/1.jpg")
    assert query["X-Goog-Credential"][0].startswith("imgopt@catalogue.iam.gserviceaccount.com/")
    assert query["X-Goog-Expires"] == ["3600"] and len(query["X-Goog-Signature"][0]) == 512


def test_only_the_cloud_clients_standard_variables_are_passed_on():
    environ = {
        "AWS_REGION": "eu-west-1",
        "GOOGLE_APPLICATION_CREDENTIALS": "/k.json",
        "HOME": "/root",
        "PGPASSWORD": "x",
    }

    assert cloud_variables(environ) == {"AWS_REGION": "eu-west-1", "GOOGLE_APPLICATION_CREDENTIALS": "/k.json"}
