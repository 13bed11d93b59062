"""Loading the oracle's key from an encrypted keystore, and signing batches with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from oracle.signer import PASSWORD_ENV, PASSWORD_FILE_ENV, BatchSigner, SignerError, keystore_password, load_keystore
from oracle.typed_data import Domain, FeedbackBatch, FeedbackRecord, batch_digest

KEY = keccak(text="servicecoin-test-oracle-key")
ADDRESS = Account.from_key(KEY).address


@pytest.fixture
def keystore(tmp_path: Path) -> Path:
    path = tmp_path / "oracle.json"
    # pbkdf2 with few iterations keeps the test fast; real keystores use eth-account's scrypt default.
    path.write_text(json.dumps(Account.encrypt(KEY, "s3cret", kdf="pbkdf2", iterations=1000)))
    return path


def test_keystore_with_the_right_password_gives_the_account(keystore: Path) -> None:
    assert load_keystore(keystore, "s3cret").address == ADDRESS


def test_wrong_password_is_reported_as_such(keystore: Path) -> None:
    with pytest.raises(SignerError, match="oracle.json: cannot decrypt the keystore: wrong password"):
        load_keystore(keystore, "guess")


def test_a_plain_private_key_file_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "key.txt"
    plain.write_text(KEY.hex())
    with pytest.raises(SignerError, match="not an encrypted JSON keystore"):
        load_keystore(plain, "s3cret")


def test_json_without_a_crypto_section_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"private_key": KEY.hex()}))
    with pytest.raises(SignerError, match="no 'crypto' section"):
        load_keystore(other, "s3cret")


def test_missing_keystore_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SignerError, match="no such keystore"):
        load_keystore(tmp_path / "absent.json", "s3cret")


def test_password_from_the_environment() -> None:
    assert keystore_password({PASSWORD_ENV: "from-env"}) == "from-env"


def test_password_file_wins_and_loses_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-file\n")
    assert keystore_password({PASSWORD_ENV: "from-env", PASSWORD_FILE_ENV: str(secret)}) == "from-file"


def test_unreadable_password_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SignerError, match="cannot read the password file"):
        keystore_password({PASSWORD_FILE_ENV: str(tmp_path / "absent")})


def test_no_password_names_both_variables() -> None:
    with pytest.raises(SignerError, match=f"set {PASSWORD_ENV} or {PASSWORD_FILE_ENV}"):
        keystore_password({})


def test_signature_recovers_to_the_keystore_account(keystore: Path) -> None:
    domain = Domain(chain_id=31337, verifying_contract="0x" + "ab" * 20)
    record = FeedbackRecord(keccak(text="e"), "0x" + "cd" * 20, 1, 0, 1_700_000_000, keccak(text="c"))
    batch = FeedbackBatch(1, keccak(text="policy"), 1_800_000_000, (record,))
    signer = BatchSigner(load_keystore(keystore, "s3cret"), domain)
    signature = signer.sign(batch)
    assert len(signature) == 65
    assert Account._recover_hash(batch_digest(domain, batch), signature=signature) == ADDRESS == signer.address
