"""The pure decision core: profile in, recommendation out."""
