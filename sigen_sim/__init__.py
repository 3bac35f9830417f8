"""A simulator of the Sigen cloud."""
