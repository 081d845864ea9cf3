"""Tenancy in PostgreSQL: the upgrade keeps existing rows, keys are found by hash and forgotten when revoked."""

import io
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from imgopt.adapters.postgres.api_keys import PostgresApiKeyReader, RememberingApiKeyReader
from imgopt.adapters.postgres.engine import make_engine, migrate
from imgopt.adapters.postgres.status import PostgresStatusReader
from imgopt.adapters.postgres.uow import SqlAlchemyUnitOfWork
from imgopt.domain.options import ORIGINAL_QUALITY, Quality
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID, Tenant, hash_key, new_api_key
from tests.postgres import create_database, drop_database
from tests.support import csv_bytes, wait_for

NOW = datetime(2026, 11, 30, tzinfo=UTC)
KEY = "imgopt_" + "k" * 43


def test_an_upgrade_moves_every_request_and_webhook_to_the_anonymous_tenant(postgres_server):
    name = f"imgopt_upgrade_{uuid.uuid4().hex[:8]}"
    engine = make_engine(create_database(postgres_server, name), pool_size=1)
    request_id, webhook_id = uuid.uuid4(), uuid.uuid4()
    try:
        migrate(engine, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    """
                    INSERT INTO images.requests (id, status, quality, output_format, product_count, image_count,
                        last_line, created_at) VALUES (:id, 'failed', 50, 'original', 1, 1, 2, now())
                    """
                ),
                {"id": request_id},
            )
            connection.execute(
                text(
                    """
                    INSERT INTO images.webhookurls (id, request_id, url, secret, format, created_at)
                    VALUES (:id, NULL, 'https://h.example/all', 'whsec_x', 'json', now())
                    """
                ),
                {"id": webhook_id},
            )

        migrate(engine)

        with engine.connect() as connection:
            owners = connection.execute(
                text("SELECT tenant_id FROM images.requests UNION ALL SELECT tenant_id FROM images.webhookurls")
            ).scalars()
            assert set(owners) == {ANONYMOUS_TENANT_ID}
        reader = PostgresStatusReader(engine)
        assert reader.summary(request_id, ANONYMOUS_TENANT_ID).status.value == "failed"
        assert reader.summary(request_id, uuid.uuid4()) is None
        assert [w.id for w in reader.webhooks(ANONYMOUS_TENANT_ID, None, 10).items] == [webhook_id]
    finally:
        engine.dispose()
        drop_database(postgres_server, name)


def add_key(engine, plaintext: str = KEY):
    tenant = Tenant(uuid.uuid4(), f"team-{uuid.uuid4().hex[:6]}", NOW)
    key = new_api_key(uuid.uuid4(), tenant.id, "tests", plaintext, NOW)
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.tenants.add(tenant)
        uow.keys.add(key)
        uow.commit()
    return key


def test_a_key_is_found_by_its_hash_and_its_use_noted(clean_database):
    key = add_key(clean_database)

    found = PostgresApiKeyReader(clean_database).find(hash_key(KEY))

    assert (found.id, found.tenant_id) == (key.id, key.tenant_id) and found.last_used_at is not None
    assert PostgresApiKeyReader(clean_database).find(hash_key("imgopt_" + "x" * 43)) is None


def test_remembered_keys_are_forgotten_the_moment_any_key_is_revoked_elsewhere(clean_database):
    key = add_key(clean_database)
    reader = RememberingApiKeyReader(PostgresApiKeyReader(clean_database), clean_database)
    try:
        remembered = wait_for(
            lambda: reader.find(hash_key(KEY)) and reader.remembered(hash_key(KEY)),
            timeout=30,
            message="the reader to listen and remember the key",
        )

        with SqlAlchemyUnitOfWork(clean_database) as uow:
            uow.keys.revoke(key.id, NOW)
            uow.commit()
        forgotten = wait_for(lambda: reader.remembered(hash_key(KEY)) is None, timeout=30, message="it to forget")
        again = reader.find(hash_key(KEY))

        assert remembered.id == key.id and forgotten
        assert again.revoked and reader.remembered(hash_key(KEY)) is None
    finally:
        reader.close()


def test_a_tenants_waiting_images_are_those_of_its_unfinished_requests(clean_database):
    key = add_key(clean_database)
    with clean_database.begin() as connection:
        for status, images, optimized in (("processing", 10, 4), ("pending", 3, 0), ("completed", 5, 5)):
            connection.execute(
                text(
                    """
                    INSERT INTO images.requests (id, tenant_id, status, quality, output_format, product_count,
                        image_count, optimized_count, last_line, created_at)
                    VALUES (:id, :tenant, :status, 50, 'original', 1, :images, :optimized, 2, now())
                    """
                ),
                {"id": uuid.uuid4(), "tenant": key.tenant_id, "status": status, "images": images,
                 "optimized": optimized},
            )  # fmt: skip

    with SqlAlchemyUnitOfWork(clean_database) as uow:
        waiting = uow.tenants.waiting_images(key.tenant_id)
        nobody = uow.tenants.waiting_images(uuid.uuid4())

    assert (waiting, nobody) == (9, 0)


def test_claims_take_turns_across_tenants_and_their_requests_and_skip_cancelled_requests(container):
    use_cases = container.use_cases
    a = use_cases.create_api_key()("team-a", "tests").key.tenant_id
    b = use_cases.create_api_key()("team-b", "tests").key.tenant_id
    ingest = use_cases.ingest_csv()
    big = ingest(a, io.BytesIO(csv_bytes(*(f"{n},P{n},https://a.example/{n}.jpg" for n in range(1, 301)))))
    claim = use_cases.claim_images()
    claim(4)  # A's upload is under way: a slice of it waits as jobs
    a_second = ingest(a, io.BytesIO(csv_bytes("1,Q,https://a.example/q.jpg")))
    b_small = ingest(b, io.BytesIO(csv_bytes("1,R,https://b.example/r1.jpg", "2,S,https://b.example/r2.jpg")))
    cancelled = ingest(b, io.BytesIO(csv_bytes("1,T,https://b.example/t.jpg")))
    use_cases.cancel_request()(b, cancelled.request_id)
    claim(4)  # four more of A's; it finds the new uploads short of jobs and makes theirs

    claimed = [job.request_id for job in claim(4)]

    assert sorted(map(str, claimed)) == sorted(
        map(str, [big.request_id, a_second.request_id, b_small.request_id, b_small.request_id])
    )


def test_an_upgrade_gives_the_tenants_there_are_the_originals_q50_and_a_default_quality_is_kept(postgres_server):
    name = f"imgopt_upgrade_{uuid.uuid4().hex[:8]}"
    engine = make_engine(create_database(postgres_server, name), pool_size=1)
    existing = uuid.uuid4()
    try:
        migrate(engine, "0009_source_fetch_leases")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO images.tenants (id, name, created_at) VALUES (:id, 'team-old', now())"),
                {"id": existing},
            )

        migrate(engine)

        with SqlAlchemyUnitOfWork(engine) as uow:
            old, anonymous = uow.tenants.named("team-old"), uow.tenants.get(ANONYMOUS_TENANT_ID)
            assert old.id == existing and old.default_quality == ORIGINAL_QUALITY
            assert anonymous.default_quality == ORIGINAL_QUALITY
            uow.tenants.add(Tenant(uuid.uuid4(), "team-new", NOW, Quality(auto=True)))
            uow.tenants.set_default_quality(existing, Quality(82))
            uow.commit()
        with SqlAlchemyUnitOfWork(engine) as uow:
            assert uow.tenants.named("team-new").default_quality == Quality(auto=True)
            assert uow.tenants.get(existing).default_quality == Quality(82)
            assert uow.tenants.get(uuid.uuid4()) is None
    finally:
        engine.dispose()
        drop_database(postgres_server, name)
