"""fusever: a formal-spec translator and verifier for a FUSE kernel patch."""

__version__ = "0.1.0"
