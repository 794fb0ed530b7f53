"""ARC-AGI harness: loading and validating task files, augmentation with puzzle identifiers, canvas
encoding, protocol-explicit splits, voting and pass@k, submission.json, drawing."""

from tasks.arc.task import ARCConfig, ARCTask

__all__ = ["ARCConfig", "ARCTask"]
