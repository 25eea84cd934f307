"""Showing what the network does: Grad-CAM, its filters and feature maps, CNN building blocks, charts."""
