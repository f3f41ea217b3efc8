"""Restoring old photos: finding scratches, cracks, dust and torn corners to put into the Hole.

Qt-free. Layer rule: this package may import ``inference.engines``, ``inference.edges``,
``inference.weights`` and ``inference.io`` only, never ``inference.evaluation``,
``inference.training`` or ``inference.cli`` (those may import it).

* :func:`refine_stroke` - the defect inside a rough Stroke a person painted (Scratch brush);
* :func:`propose_dust` - small specks in flat surroundings, for the user to review;
* :func:`propose_damage` - long thin scratches and torn corners over the whole photo, precision first;
* :mod:`inference.restoration.synthetic` - seeded damage rendered onto clean photos with exact Masks,
  for measurement and tests.
"""

from inference.restoration.damage import propose_damage
from inference.restoration.dust import propose_dust
from inference.restoration.stroke import STROKE_KINDS, refine_stroke

DEFAULT_SENSITIVITY = 0.5

__all__ = ["DEFAULT_SENSITIVITY", "STROKE_KINDS", "propose_damage", "propose_dust", "refine_stroke"]
