"""The certificate credential of the tenant's registered app (protocols.md 3.2).

Issued once when a tenant is seeded and kept in its state: the authority checks client
assertions against the public certificate; clients sign with the private key, through
msal's `client_credential` dict in either shape it accepts.
"""

import base64
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ClientCertificate:
    private_key_pem: str
    certificate_pem: str

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode())

    @property
    def sha1_thumbprint(self) -> str:
        """Hex SHA-1 thumbprint, as the Azure portal shows it (and msal's `thumbprint` takes)."""
        return self.certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - the legacy x5t header is SHA-1

    @property
    def msal_credential(self) -> dict[str, str]:
        """`{"private_key", "public_certificate"}`: msal signs PS256 with `x5t#S256` (and sends `x5c`)."""
        return {"private_key": self.private_key_pem, "public_certificate": self.certificate_pem}

    @property
    def msal_thumbprint_credential(self) -> dict[str, str]:
        """`{"private_key", "thumbprint"}`: msal signs RS256 with the SHA-1 `x5t` header."""
        return {"private_key": self.private_key_pem, "thumbprint": self.sha1_thumbprint}


def issue_client_certificate(client_id: str) -> ClientCertificate:
    """A fresh self-signed certificate for the app `client_id` (RSA 2048, two years)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"p2c emulated app {client_id}")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=730))
                   .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ClientCertificate(key_pem.decode(), certificate.public_bytes(serialization.Encoding.PEM).decode())


def thumbprints(certificate_pem: str) -> dict[str, str]:
    """The JWT header thumbprints (`x5t#S256`, `x5t`: base64url of the DER digest) of a certificate."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())

    def encoded(algorithm: hashes.HashAlgorithm) -> str:
        return base64.urlsafe_b64encode(certificate.fingerprint(algorithm)).decode().rstrip("=")

    return {"x5t#S256": encoded(hashes.SHA256()), "x5t": encoded(hashes.SHA1())}  # noqa: S303
