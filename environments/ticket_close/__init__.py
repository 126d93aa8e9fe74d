"""TicketClose: a helpdesk queue with a knowledge base, accounts and a scripted customer."""

from llmgym.environments.ticket_close.env import TicketCloseEnv

__all__ = ["TicketCloseEnv"]
