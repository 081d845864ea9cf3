import io
import uuid

import pytest
from sqlalchemy import text

from imgopt.adapters.postgres.uow import SqlAlchemyUnitOfWork
from imgopt.domain.product_csv import CsvCounts, CsvLimits, CsvRejected, ProductCsvReader
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from tests.support import csv_bytes

VARIED = b"\xef\xbb\xbf" + csv_bytes(
    '1,"Shirt blue","https://a.example/1.jpg,https://a.example/2.jpg"',
    "",
    "2,Café ☕ 名前,HTTP://B.EXAMPLE:8080/x?y=1#z",
    " , ",
    '3,"Q","https://cdn.example/w_100;h_50/a.jpg"',
    '4,A,"https://cdn.example/b.jpg,https://c.example/\\\\{x}"',
    *(f"{n},Product {n},https://a.example/{n}.jpg" for n in range(5, 3000)),
).replace(b"\n", b"\r\n")


def stored_rows(engine, request_id: uuid.UUID) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT line_no, serial, product_name, input_urls FROM images.productimages"
                " WHERE request_id = :id ORDER BY line_no"
            ),
            {"id": request_id},
        ).all()


def test_a_plain_file_is_stored_as_the_row_rules_store_it(clean_database):
    plain_id, checked_id = uuid.uuid4(), uuid.uuid4()

    with SqlAlchemyUnitOfWork(clean_database) as uow:
        counts = uow.products.add_plain(plain_id, io.BytesIO(VARIED), CsvLimits())
        reader = ProductCsvReader(io.BytesIO(VARIED))
        uow.products.add_many(checked_id, reader)
        uow.commit()

    rows = stored_rows(clean_database, plain_id)
    assert rows == stored_rows(clean_database, checked_id)
    assert counts == reader.counts() == CsvCounts(2999, 3001, 3002)
    assert rows[2] == (6, 3, "Q", ["https://cdn.example/w_100;h_50/a.jpg"])


def test_a_file_found_not_plain_blocks_in_leaves_nothing_and_the_transaction_usable(clean_database):
    data = csv_bytes(*(f"{n},Product {n},https://a.example/{n}.jpg" for n in range(1, 20000)), "20000,Late,ftp://x")
    request_id = uuid.uuid4()

    with SqlAlchemyUnitOfWork(clean_database) as uow:
        stored = uow.products.add_plain(request_id, io.BytesIO(data), CsvLimits())
        uow.products.add_many(request_id, ProductCsvReader(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg"))))
        uow.commit()

    assert stored is None
    assert [row.serial for row in stored_rows(clean_database, request_id)] == [1]


def test_plain_serials_out_of_order_are_compared_and_a_repeat_refused(clean_database):
    distinct = csv_bytes("3,C,https://a.example/3", "1,A,https://a.example/1", "2,B,https://a.example/2")
    repeated = csv_bytes("3,C,https://a.example/3", "1,A,https://a.example/1", "3,D,https://a.example/4")
    distinct_id, repeated_id = uuid.uuid4(), uuid.uuid4()

    with SqlAlchemyUnitOfWork(clean_database) as uow:
        verdicts = (
            uow.products.add_plain(distinct_id, io.BytesIO(distinct), CsvLimits()),
            uow.products.add_plain(repeated_id, io.BytesIO(repeated), CsvLimits()),
        )
        uow.commit()

    assert verdicts == (CsvCounts(3, 3, 4), None)
    assert len(stored_rows(clean_database, distinct_id)) == 3
    assert stored_rows(clean_database, repeated_id) == []


def test_an_upload_whose_plain_rows_repeat_a_serial_is_explained_by_the_row_rules(container, clean_database):
    data = csv_bytes("3,C,https://a.example/3", "1,A,https://a.example/1", "3,D,https://a.example/4")

    with pytest.raises(CsvRejected) as rejected:
        container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(data))

    assert [str(error) for error in rejected.value.errors] == ["line 4, column 'S. No.': 3 is already used on line 2"]
    with clean_database.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM images.productimages")).scalar() == 0


def test_an_ascii_file_of_the_common_shape_is_stored_as_the_row_rules_store_it(clean_database):
    data = csv_bytes(
        *(
            f'{n},"Product {n} blue","https://a.example/{n}/1.jpg,HTTP://B.EXAMPLE:8080/{n}?s=2#x"'
            for n in range(1, 4000)
        )
    )
    plain_id, checked_id = uuid.uuid4(), uuid.uuid4()

    with SqlAlchemyUnitOfWork(clean_database) as uow:
        assert uow.products.add_plain(plain_id, io.BytesIO(data), CsvLimits())
        uow.products.add_many(checked_id, ProductCsvReader(io.BytesIO(data)))
        uow.commit()

    rows = stored_rows(clean_database, plain_id)
    assert rows == stored_rows(clean_database, checked_id)
    assert rows[-1] == (
        4000,
        3999,
        "Product 3999 blue",
        ["https://a.example/3999/1.jpg", "HTTP://B.EXAMPLE:8080/3999?s=2#x"],
    )
