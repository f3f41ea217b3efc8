"""LBAM (learnable bidirectional attention maps): generator, discriminator, importer and engine."""
