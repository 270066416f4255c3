"""Bulk work: selection, backfill, poll, checkpoints, the archive engine."""
