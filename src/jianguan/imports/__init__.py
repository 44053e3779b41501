"""The one import pipeline (read → check → report → write), reused by every import kind."""
