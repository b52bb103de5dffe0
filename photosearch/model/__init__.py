"""CLIP-style dual encoders. Import submodules directly; this package imports nothing heavy."""
