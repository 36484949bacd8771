"""Staying eligible (rulebook §5.9–5.10): verification of entitlement, pauses and resumptions."""
