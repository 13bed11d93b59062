"""ServiceCoin oracle: helpdesk events in, EIP-712 signed reward batches out."""
