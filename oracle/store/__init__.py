"""The oracle's durable state: a transactional outbox of helpdesk events and their batches."""
