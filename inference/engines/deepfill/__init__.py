"""DeepFill v2 (Yu et al., ICCV 2019): gated convolutions and contextual attention, written from
/work/shared/specs/deepfill_v2.md. Importing a submodule imports torch; this package file does not."""
