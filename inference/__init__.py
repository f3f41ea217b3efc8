"""Inpaint Studio core: engines, models, image I/O and evaluation. Never imports Qt.

Layers, top to bottom (each may import only those below it; enforced by import-linter):

* ``cli``          the command line
* ``training``     training our own weights
* ``evaluation`` | ``restoration``   scoring and comparing fills | finding damage in old photos
* ``engines`` | ``edges``            everything that fills a Hole | the HED edge detector
* ``weights``      weight files and their safe import
* ``io``           image and Mask files
"""
