"""Training data: the synthetic text-pose generator and its checker, the COCO loader, the training Dataset."""
