"""Data migrations: each runnable as a module and through ``lumetrix migrate``; idempotent."""
