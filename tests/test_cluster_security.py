"""The training cluster is a door into the server: every port refuses a peer without a certificate,
and the HTTP ports Dask opens beside them serve no pages.

The built-in cluster runs on a throw-away certificate of its own (a separate scheduler and worker,
the scale-out recipe, are tested in test_scale_out.py); what a worker sends back is read as data.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import pytest

from catbreed.data.dataset import check_folder
from catbreed.errors import CatbreedError
from catbreed.jobs import FINISHED, TLS_VARIABLES, JobManager, scheduler_security

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # worker processes of their own


def refused(address: str) -> bool:
    """Whether a peer without any certificate is turned away at `address`, in plain TCP and in TLS."""
    from distributed.comm import connect

    async def attempt(url: str) -> bool:
        options = {}
        if url.startswith("tls://"):  # TLS that trusts anything and shows no certificate of its own
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            options["ssl_context"] = context
        try:
            comm = await connect(url, timeout=3, **options)
        except (OSError, TimeoutError):
            return True
        try:  # a TLS listener may accept the TCP connection and drop it at the handshake
            await comm.write({"op": "identity"})
            await asyncio.wait_for(comm.read(), timeout=3)
        except Exception:
            return True
        finally:
            comm.abort()
        return False

    host_port = address.split("://", 1)[1]
    return all(asyncio.run(attempt(f"{scheme}://{host_port}")) for scheme in ("tcp", "tls"))


def web_pages(address: str) -> list[str]:
    """The pages a Dask member's HTTP server at `address` (host:port) lists, besides the list itself."""
    import json
    from urllib.request import urlopen

    with urlopen(f"http://{address}/sitemap.json", timeout=5) as answer:
        return [path for path in json.loads(answer.read())["paths"] if path != "/sitemap.json"]


def http_addresses(client) -> list[str]:
    """Where the scheduler and each worker serve HTTP, from what the scheduler says of them."""
    info = client.scheduler_info()
    members = [(client.scheduler.address, info), *info["workers"].items()]
    return [f"{address.split('://', 1)[1].rsplit(':', 1)[0]}:{m['services']['dashboard']}" for address, m in members]


def test_the_built_in_cluster_refuses_a_client_without_its_certificate(tmp_path):
    manager = JobManager(home=tmp_path, warm_up=None)
    try:
        assert manager._ready.wait(60)
        info = manager._client.scheduler_info()
        addresses = [manager._cluster.scheduler_address, *info["workers"]]
        addresses += [w["nanny"] for w in info["workers"].values() if w.get("nanny")]
        assert len(addresses) >= 3 and all(a.startswith("tls://127.0.0.1:") for a in addresses)
        for address in addresses:
            assert refused(address), address
        served = http_addresses(manager._client)  # the worker's in a process of its own
        assert len(served) == 2 and all(a.startswith("127.0.0.1:") and web_pages(a) == [] for a in served)
    finally:
        manager.close()


def test_a_scheduler_of_ones_own_needs_the_certificates(monkeypatch):
    for name in TLS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CatbreedError, match="CATBREED_TLS_CA, CATBREED_TLS_CERT, CATBREED_TLS_KEY"):
        scheduler_security()


class _Rigged:
    """What a rogue worker could send back: unpickling it would create `marker` in the server."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


class _RiggedResult:
    def __init__(self, marker: Path):
        self.marker = marker

    def to_plain(self) -> dict:
        return {"bundle": _Rigged(self.marker)}


def rigged_training(marker: Path, *args) -> _RiggedResult:
    return _RiggedResult(marker)


def test_what_a_worker_sends_back_is_read_as_data_never_unpickled(tmp_path, shapes_folder, standin_settings):
    import functools

    marker = tmp_path / "code ran in the server"
    manager = JobManager(home=tmp_path, warm_up=None, training=functools.partial(rigged_training, marker))
    try:
        job = manager.submit(check_folder(shapes_folder), standin_settings)
        deadline = time.monotonic() + 120
        while job.state not in FINISHED:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job.state == "failed" and not marker.exists(), job.error
    finally:
        manager.close()
