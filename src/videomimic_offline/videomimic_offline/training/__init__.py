"""Four-stage policy training on mjlab (MoCap pre-training, teacher, DAgger student, finetune), export, eval."""
