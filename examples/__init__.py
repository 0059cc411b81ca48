"""Runnable tutorials: each example answers one question about weight updates with numbers measured
in the run (``python -m examples.<name> --help``); ``_common`` holds what they share."""
