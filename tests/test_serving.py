"""Serving the app to a phone: the addresses it is opened at, a certificate made for this machine,
and `python -m catbreed serve --https` answering over TLS."""

import datetime
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509

from catbreed import serving
from catbreed.cli import main
from catbreed.errors import CatbreedError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def network(monkeypatch):
    """This machine on a made-up network: the addresses its interfaces have (read, never contacted)."""
    addresses = ["192.168.1.23"]
    monkeypatch.setattr(serving, "lan_addresses", lambda: list(addresses))
    return addresses


def named_hosts(certificate: Path) -> set[str]:
    names = x509.load_pem_x509_certificate(certificate.read_bytes()).extensions
    alternative = names.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(a) for a in alternative.get_values_for_type(x509.IPAddress)} | set(
        alternative.get_values_for_type(x509.DNSName)
    )


def test_the_certificate_names_this_machine_is_kept_and_is_made_again_when_the_network_changes(tmp_path, network):
    certificate, key = serving.server_certificate(tmp_path)
    assert named_hosts(certificate) == {"localhost", "127.0.0.1", "192.168.1.23"}
    assert key.stat().st_mode & 0o077 == 0  # the key is readable by its owner only
    serving.check_certificate_pair(certificate, key)
    made = certificate.read_bytes()
    assert serving.server_certificate(tmp_path)[0].read_bytes() == made  # kept while it still fits
    network[:] = ["10.0.0.7"]  # the laptop joined another network
    assert named_hosts(serving.server_certificate(tmp_path)[0]) == {"localhost", "127.0.0.1", "10.0.0.7"}


def test_a_certificate_near_its_end_is_made_again(tmp_path, network):
    first = serving.server_certificate(tmp_path)[0].read_bytes()
    now = datetime.datetime.now(datetime.UTC)
    assert serving.server_certificate(tmp_path, now=now + datetime.timedelta(days=300))[0].read_bytes() == first
    later = now + datetime.timedelta(days=serving.VALID_DAYS - serving.RENEW_DAYS + 1)
    assert serving.server_certificate(tmp_path, now=later)[0].read_bytes() != first


def test_the_addresses_a_phone_opens(network):
    assert serving.phone_urls("0.0.0.0", 8501, https=True) == ["https://192.168.1.23:8501/"]
    assert serving.phone_urls("192.168.1.23", 9000, https=False) == ["http://192.168.1.23:9000/"]
    assert serving.phone_urls("127.0.0.1", 8501, https=True) == []  # a phone cannot reach loopback
    # Opened at a name (or through a proxy): that address, which a browser reached already.
    opened = "https://cats.example.org/train?lang=pt-BR"
    assert serving.phone_urls("127.0.0.1", 8501, https=False, opened_at=opened) == ["https://cats.example.org/"]
    assert serving.phone_urls("0.0.0.0", 8501, True, "http://localhost:8501/") == ["https://192.168.1.23:8501/"]


def test_the_addresses_read_from_this_machine_are_on_its_networks():
    for address in serving.lan_addresses():
        assert not address.startswith(("127.", "169.254.")) and address.count(".") == 3


def test_a_certificate_and_key_that_are_not_a_pair_are_refused_in_one_line(tmp_path, network):
    certificate, _ = serving.server_certificate(tmp_path / "one")
    _, other_key = serving.server_certificate(tmp_path / "two")
    with pytest.raises(CatbreedError, match="are not a PEM certificate and its private key"):
        serving.check_certificate_pair(certificate, other_key)
    with pytest.raises(CatbreedError, match="There is no file .*missing.pem"):
        serving.check_certificate_pair(tmp_path / "missing.pem", other_key)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["serve", "--cert", "mine.pem"], "Give --cert and --key together"),
        (["serve", "--port", "70000"], "70000 is not a port"),
    ],
)
def test_serve_refuses_bad_options_in_one_line(capsys, argv, said):
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert said in error and error.count("\n") == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_https_answers_the_health_check_over_tls_with_the_certificate_it_made(tmp_path):
    port = free_port()
    env = {**os.environ, "CATBREED_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "catbreed", "serve", "--https", "--address", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "https" / "server.pem").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        trusted = ssl.create_default_context(cafile=tmp_path / "https" / "server.pem")  # what a phone accepts once
        while True:
            try:
                answer = urllib.request.urlopen(f"https://127.0.0.1:{port}/_stcore/health", context=trusted, timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        assert answer.read() == b"ok"
        with pytest.raises(OSError):  # plain HTTP is not served beside it
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
        assert f"Open https://localhost:{port}/ on this machine." in log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=20)
