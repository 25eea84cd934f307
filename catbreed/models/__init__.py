"""What training makes and the app uses: the head, the model bundle, the store of saved models, predictions."""
