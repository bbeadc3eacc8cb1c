"""Readers that turn motion files (our npz, BVH, LAFAN1 CSV, AMASS SMPL npz) into one human-motion type."""
