"""Neural-network modules (see issue 3)."""
