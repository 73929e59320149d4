"""tryon-cli: video face swap, video virtual try-on and try-on training data."""

__version__ = "0.1.0"
