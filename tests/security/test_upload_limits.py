"""Uploads cannot name a server path, and cannot exhaust memory: ids, names, sizes, bombs, widths."""

import base64
import gzip
import io
import threading
import time
import zipfile

import psutil
import pytest

from analytics.errors import DataError
from analytics.loading import ReadLimits, read_transactions, source_columns
from analytics.uploads import UploadStore, display_name, valid_upload_id
from callbacks import common, uploads
from settings import Settings

FORGED = {"sha256": "../../../../etc", "filename": "passwd", "ready": True}
GOOD_CSV = b"InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice\n1,2023-01-02,7,1,2.5\n2,2023-02-03,7,2,3.0\n"


def test_forged_tokens_are_refused_before_any_file_is_touched(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    for token in (FORGED, {"upload_id": "../../../../etc/passwd", "filename": "passwd"},
                  {"upload_id": "/etc/passwd"}, {"upload_id": "A" * 64}, {"upload_id": 7}, "../etc", None):
        with pytest.raises(DataError) as caught:
            uploads.uploaded_file(settings, token)
        assert "root" not in str(caught.value)
    with pytest.raises(DataError, match="not valid"):
        valid_upload_id("../" + "0" * 61)


def test_an_upload_round_trips_by_its_id_and_the_name_is_display_text(tmp_path):
    settings = Settings(cache_dir=tmp_path)
    contents = "data:text/csv;base64," + base64.b64encode(GOOD_CSV).decode()
    first = uploads.store_upload(settings, contents, "shop.csv")
    second = uploads.store_upload(settings, contents, "other name.csv")
    assert first["upload_id"] == second["upload_id"]  # same bytes, stored once
    assert (first["filename"], second["filename"]) == ("shop.csv", "other name.csv")
    assert uploads.uploaded_file(settings, second) == (second["upload_id"], GOOD_CSV, "other name.csv")
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [first["upload_id"]]  # no user name on disk


@pytest.mark.parametrize("name, says", [("..", "not a file name"), ("a/..", "not a file name"),
                                        ("é" * 130 + ".csv", "at most 255 bytes")])
def test_impossible_file_names_get_a_message(tmp_path, name, says):
    with pytest.raises(DataError, match=says):
        display_name(name)
    contents = "data:text/csv;base64," + base64.b64encode(GOOD_CSV).decode()
    with pytest.raises(DataError, match=says):
        uploads.store_upload(Settings(cache_dir=tmp_path), contents, name)


def test_size_is_checked_before_decoding(tmp_path, monkeypatch):
    settings = Settings(cache_dir=tmp_path, upload_limit_mb=1)
    decoded = []
    monkeypatch.setattr(uploads.base64, "b64decode", lambda *a, **k: decoded.append(1))
    contents = "data:text/csv;base64," + "A" * (2 * 2**20)  # 1.5 MB once decoded
    with pytest.raises(DataError, match="1.5 MB; the limit is 1 MB"):
        uploads.store_upload(settings, contents, "big.csv")
    assert decoded == [] and not (tmp_path / "uploads").exists()


def test_damaged_base64_is_named(tmp_path):
    with pytest.raises(DataError, match="arrived damaged"):
        uploads.store_upload(Settings(cache_dir=tmp_path), "data:text/csv;base64,@@@@", "x.csv")


def _gzip_bomb(members: int = 80, member_bytes: int = 64 * 2**20) -> bytes:
    """A .csv.gz of ``members`` concatenated gzip members, each ``member_bytes`` of transaction lines."""
    line = b"536365,2010-12-01 08:26:00,17850,6,2.55\n"
    block = line * (member_bytes // len(line))
    member = gzip.compress(block, compresslevel=9)
    return gzip.compress(b"InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice\n") + member * members


def _peak_rss_growth(action) -> tuple[int, BaseException | None]:
    """Largest RSS above the level before ``action``, sampled every 5 ms while it runs; and what it raised."""
    process = psutil.Process()
    idle = process.memory_info().rss
    peak, done, raised = [idle], threading.Event(), []

    def sample():
        while not done.is_set():
            peak.append(process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()
    except BaseException as exc:  # noqa: BLE001 - returned to the test to assert on
        raised.append(exc)
    finally:
        done.set()
        sampler.join()
    return max(peak) - idle, (raised or [None])[0]


@pytest.mark.parametrize("limits, says", [
    (ReadLimits(), "more than 5,000,000 rows"),  # the newline-rich bomb hits the row cap first
    (ReadLimits(max_decompressed_bytes=128 * 2**20, max_rows=10**9), "expands to more than 128 MB"),
])
def test_a_gzip_bomb_is_refused_with_bounded_memory(limits, says):
    bomb = _gzip_bomb()  # ~20 MB on the wire, 5 GB once decompressed
    assert len(bomb) < 25 * 2**20
    growth, raised = _peak_rss_growth(lambda: read_transactions(bomb, filename="bomb.csv.gz", limits=limits))
    assert isinstance(raised, DataError) and says in str(raised)
    assert growth < 300 * 2**20, f"reading the bomb grew memory by {growth / 2**20:.0f} MB"
    growth, raised = _peak_rss_growth(lambda: source_columns(bomb, filename="bomb.csv.gz", limits=limits))
    assert isinstance(raised, DataError) and growth < 300 * 2**20


def test_a_zip_member_larger_than_the_cap_is_refused_from_its_declared_size():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.csv", b"a,b\n" + b"1,2\n" * 2**20)
    limits = ReadLimits(max_decompressed_bytes=2**20)
    with pytest.raises(DataError, match="holds 'big.csv', which is 4 MB"):
        read_transactions(buffer.getvalue(), filename="big.zip", limits=limits)


def test_a_file_within_the_limits_reads_as_before():
    frame = read_transactions(gzip.compress(GOOD_CSV), filename="ok.csv.gz", limits=ReadLimits(max_rows=2))
    assert len(frame) == 2
    with pytest.raises(DataError, match="more than 1 rows"):
        read_transactions(gzip.compress(GOOD_CSV), filename="ok.csv.gz", limits=ReadLimits(max_rows=1))


def test_a_file_with_32768_columns_gets_a_short_message():
    wide = (",".join(f"c{i}" for i in range(32768)) + "\n" + ",".join("1" * 32768) + "\n").encode()
    with pytest.raises(DataError) as caught:
        source_columns(wide, filename="wide.csv")
    assert "more than 500 columns" in str(caught.value) and len(str(caught.value)) < 300
    alert = common.error_alert("x" * 100_000)
    assert len(str(alert.children[1])) < 700


def test_expired_uploads_are_deleted(tmp_path):
    store = UploadStore(tmp_path)
    upload_id = store.put(GOOD_CSV)
    assert store.expire(max_age_days=1) == []
    assert store.expire(max_age_days=0) == [upload_id]
    with pytest.raises(DataError, match="no longer on the server"):
        store.read(upload_id)


def test_results_expire_after_the_retention_period(tmp_path):
    from analytics.cache import ResultsCache

    cache = ResultsCache(tmp_path, ttl_s=1)
    cache.set("k", {"customers": 1})
    assert cache.get("k") == {"customers": 1}
    time.sleep(1.3)
    assert cache.get("k") is None and "k" not in cache


def test_an_upload_sweeps_out_uploads_past_retention(tmp_path):
    import os

    store = UploadStore(tmp_path / "uploads")
    old = store.put(b"old bytes")
    two_days_ago = time.time() - 2 * 86400
    os.utime(tmp_path / "uploads" / old, (two_days_ago, two_days_ago))
    settings = Settings(cache_dir=tmp_path, retention_days=1)
    token = uploads.store_upload(settings, "data:text/csv;base64," + base64.b64encode(GOOD_CSV).decode(), "a.csv")
    assert {p.name for p in (tmp_path / "uploads").iterdir()} == {token["upload_id"]}
