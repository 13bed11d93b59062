"""The oracle's signing key: loaded only from an encrypted eth-account keystore, never from a
plain key in configuration; its password from an environment variable or a file (for secret
managers that mount files)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount

from oracle.errors import OracleError
from oracle.typed_data import Domain, FeedbackBatch, batch_digest, sign_digest

PASSWORD_ENV = "SERVICECOIN_KEYSTORE_PASSWORD"
PASSWORD_FILE_ENV = "SERVICECOIN_KEYSTORE_PASSWORD_FILE"


class SignerError(OracleError):
    """The signing key cannot be loaded or used."""


def keystore_password(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if PASSWORD_FILE_ENV in environ:
        path = Path(environ[PASSWORD_FILE_ENV])
        try:
            return path.read_text().rstrip("\r\n")
        except OSError as exc:
            raise SignerError(f"{PASSWORD_FILE_ENV}={path}: cannot read the password file: {exc.strerror}") from None
    if PASSWORD_ENV in environ:
        return environ[PASSWORD_ENV]
    raise SignerError(f"no keystore password: set {PASSWORD_ENV} or {PASSWORD_FILE_ENV}")


def load_keystore(path: Path | str, password: str) -> LocalAccount:
    path = Path(path)
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError:
        raise SignerError(f"{path}: no such keystore") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SignerError(f"{path}: not an encrypted JSON keystore (plain keys are refused)") from None
    if not isinstance(keystore, dict) or "crypto" not in keystore and "Crypto" not in keystore:
        raise SignerError(f"{path}: not an encrypted JSON keystore (no 'crypto' section)")
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        reason = "wrong password" if "MAC mismatch" in str(exc) else str(exc)
        raise SignerError(f"{path}: cannot decrypt the keystore: {reason}") from None
    return Account.from_key(key)


class Signer(Protocol):
    """Anything that signs batches for the registry: a local key, or a remote co-signer."""

    address: str
    domain: Domain

    def sign(self, batch: FeedbackBatch) -> bytes: ...


class BatchSigner:
    """Signs feedback batches for one registry (its EIP-712 domain)."""

    def __init__(self, account: LocalAccount, domain: Domain) -> None:
        self._account = account
        self.domain = domain

    @property
    def address(self) -> str:
        return str(self._account.address)

    def sign(self, batch: FeedbackBatch) -> bytes:
        return sign_digest(self._account.key, batch_digest(self.domain, batch))
