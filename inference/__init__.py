"""Inpaint Studio core: engines, models, image I/O and masks. Never imports Qt."""
