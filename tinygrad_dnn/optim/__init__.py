"""Optimizers, schedules and clipping (see issue 4)."""
