"""Fixed TicketClose splits."""
