"""TripBooking: a tau-bench-style travel agency environment with no LLM in the loop."""

from llmgym.environments.trip_booking.env import TripBookingEnv

__all__ = ["TripBookingEnv"]
