"""Helpdesk events in: webhook signature schemes, strict JSON, payload adapters."""
