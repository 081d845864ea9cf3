"""Image optimization with Pillow: safe opening, colour, geometry, encoders and the optimizer itself."""
