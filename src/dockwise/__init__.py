"""dockwise: is your container project ready for production?"""

__version__ = "0.1.0"
