"""Training our own DeepFill v2 (guided) and LBAM weights. Qt-free; see docs/training.md.

* :mod:`.pack` builds a compact training pack (JPEG photos + PNG HED edge maps) from a folder;
* :mod:`.sampling`, :mod:`.guides` and :mod:`.data` turn it into seeded, reproducible batches;
* :mod:`.losses`, :mod:`.deepfill_trainer`, :mod:`.lbam_trainer` and :mod:`.loop` train;
* :mod:`.checkpoints` saves and resumes, :mod:`.export` writes engine-ready weights and a model card.

Only :mod:`.pack`, :mod:`.sampling` and :mod:`.guides` are importable without torch.

May import: inference.evaluation (metrics, mask generator), inference.restoration, inference.engines
(the networks), inference.edges, inference.weights, inference.io. Not the cli.
"""
