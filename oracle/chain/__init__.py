"""The oracle's view of the chain: the registry's client, revert decoding, the submitter."""
