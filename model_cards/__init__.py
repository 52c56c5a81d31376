"""The model-card template (`timemae.md`), installed as package data `timemae_hf.model_cards` (see setup.cfg)."""
