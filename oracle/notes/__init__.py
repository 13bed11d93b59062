"""Closing the loop: once a reward is final, a note with its on-chain proof goes back to the
helpdesk ticket it came from (adapter.py: one adapter per helpdesk; Zendesk first)."""
