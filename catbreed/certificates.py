"""Certificates for trainings on other machines: a private authority and one certificate per member.

A Dask scheduler runs whatever a connected client sends it, and a worker's results are read by the
app. So the scheduler, the workers and the app prove to each other who they are (mutual TLS): each
holds a certificate signed by an authority made here for this one cluster, and refuses any peer
without one. `python -m catbreed certificates FOLDER` writes them; README's "Trainings on other
machines" says which file goes where. Keys are written readable by their owner only.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from catbreed.errors import CatbreedError

MEMBERS = ("scheduler", "worker", "app")
VALID_DAYS = 825  # the longest a browser accepts for a server certificate; plenty for a cluster


def certificate_name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def alternative_names(hosts: list[str]):
    from cryptography import x509

    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def write_key(path: Path, key) -> None:
    from cryptography.hazmat.primitives import serialization

    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def make_certificates(folder: Path, hosts: list[str]) -> dict[str, Path]:
    """Write ca.pem and, for each of MEMBERS, NAME.pem and NAME.key into `folder` (created empty);
    the certificates name `hosts` (the machines' addresses or names). Returns the paths by name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise CatbreedError("certificates.folder_not_empty", folder=str(folder))
    if not hosts:
        raise CatbreedError("certificates.no_hosts")
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(certificate_name("catbreed cluster authority"))
        .issuer_name(certificate_name("catbreed cluster authority"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    written = {"ca": folder / "ca.pem"}
    written["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for member in MEMBERS:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(certificate_name(f"catbreed {member}"))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(alternative_names(hosts), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        written[member] = folder / f"{member}.pem"
        written[member].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        written[f"{member}-key"] = folder / f"{member}.key"
        write_key(written[f"{member}-key"], key)
    return written
