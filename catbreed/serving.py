"""Serving the app to a phone on the local network.

A phone reaches the app at this machine's address on the network, and a browser opens the camera only
on a page served over HTTPS (or from localhost). So `python -m catbreed serve --https` makes this
machine a certificate that names its addresses, self-signed (no authority vouches for it: the
phone's browser warns once, and the person chooses to go on), and runs the app over TLS with it.
An operator with a certificate of their own passes it instead (`--cert`, `--key`).

The addresses are read from this machine's network interfaces: nothing is sent anywhere.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from catbreed.certificates import alternative_names, certificate_name, write_key
from catbreed.errors import CatbreedError
from catbreed.paths import atomic_write_bytes, catbreed_home

VALID_DAYS = 397  # the longest browsers accept for a server certificate
RENEW_DAYS = 30  # a certificate this close to its end is made again
LOOPBACK_NAMES = ("localhost", "127.0.0.1")
SERVE_HTTPS = "python -m catbreed serve --https"  # the one command, as pages show it


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses on its networks (not loopback, not link-local), in interface order."""
    found = []
    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family.name != "AF_INET":
                continue
            address = ipaddress.ip_address(entry.address)
            if not (address.is_loopback or address.is_link_local) and entry.address not in found:
                found.append(entry.address)
    return found


def phone_urls(listening_on: str, port: int, https: bool, opened_at: str = "") -> list[str]:
    """The addresses a phone on the same network opens the app at, for a server listening on
    `listening_on` (Streamlit's server.address; empty or 0.0.0.0 means every interface). None when
    it listens on loopback only: a phone cannot reach that. `opened_at`, the address a browser
    opened it at, comes first when it is not this machine's loopback (a name, or a proxy's address)."""
    scheme = "https" if https else "http"
    opened = urlsplit(opened_at)
    if opened.hostname and opened.hostname not in LOOPBACK_NAMES and opened.hostname != "::1":
        return [f"{opened.scheme}://{opened.netloc}/"]
    if listening_on in ("", "0.0.0.0", "::"):
        hosts = lan_addresses()
    elif listening_on in LOOPBACK_NAMES or listening_on == "::1":
        hosts = []
    else:
        hosts = [listening_on]
    return [f"{scheme}://{host}:{port}/" for host in hosts]


def server_certificate(folder: Path | None = None, now: datetime.datetime | None = None) -> tuple[Path, Path]:
    """(certificate, key) for serving HTTPS from this machine: kept in CATBREED_HOME/https and made
    again when missing, near its end (as of `now`), or no longer naming every address this machine
    has now (a laptop that moved to another network)."""
    from cryptography import x509

    folder = Path(folder) if folder else catbreed_home() / "https"
    certificate_file, key_file = folder / "server.pem", folder / "server.key"
    hosts = [*LOOPBACK_NAMES, *lan_addresses()]
    if certificate_file.is_file() and key_file.is_file():
        try:
            kept = x509.load_pem_x509_certificate(certificate_file.read_bytes())
            named = kept.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = {str(n) for n in named.get_values_for_type(x509.IPAddress)} | set(
                named.get_values_for_type(x509.DNSName)
            )
            soon = (now or datetime.datetime.now(datetime.UTC)) + datetime.timedelta(days=RENEW_DAYS)
            if set(hosts) <= names and kept.not_valid_after_utc > soon:
                return certificate_file, key_file
        except (ValueError, x509.ExtensionNotFound):
            pass  # not one of ours, or damaged: made again
    folder.mkdir(parents=True, exist_ok=True)
    _make(certificate_file, key_file, hosts)
    return certificate_file, key_file


def _make(certificate_file: Path, key_file: Path, hosts: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = certificate_name("catbreed on this machine")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(alternative_names(hosts), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_key(key_file, key)
    atomic_write_bytes(certificate_file, certificate.public_bytes(serialization.Encoding.PEM))


def check_certificate_pair(certificate: Path, key: Path) -> None:
    """CatbreedError in one line unless `certificate` and `key` are readable PEM files of one pair."""
    import ssl

    for file in (certificate, key):
        if not Path(file).is_file():
            raise CatbreedError("serve.no_file", file=str(file))
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certificate, key)
    except (ssl.SSLError, OSError) as error:
        raise CatbreedError("serve.bad_pair", certificate=str(certificate), key=str(key), reason=str(error)) from None
