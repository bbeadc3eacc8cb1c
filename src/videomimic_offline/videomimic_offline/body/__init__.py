"""Human body: the canonical keypoint skeleton shared by reconstruction, benchmarks and retargeting."""
