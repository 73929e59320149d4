"""The shared generation core: the engine interface and the engines behind it."""
