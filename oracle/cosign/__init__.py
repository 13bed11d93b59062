"""k-of-n co-signing by an independent party: the co-signer receives each batch over HTTP,
checks it against its own copy of the published policy and its own limits, and only then
signs it with its own key (review.py, server.py); the oracle asks each co-signer (client.py)."""
