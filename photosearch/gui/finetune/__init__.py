"""Fine-tuning a model from the window: the dialog and its charts."""
