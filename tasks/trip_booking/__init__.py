"""Fixed TripBooking splits."""
