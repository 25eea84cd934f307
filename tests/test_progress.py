from catbreed.progress import CROSS_VALIDATING, FEATURES, Progress


def test_progress_reads_as_words_and_a_stage_with_nothing_to_do_says_so():
    assert Progress(FEATURES, 64, 600).describe() == "Computing features: 64 of 600"
    assert Progress(CROSS_VALIDATING, 2, 5).describe() == "Estimating accuracy: 2 of 5"
    assert Progress(CROSS_VALIDATING, 2, 5).describe("pt_BR") == "Estimando a acurácia: 2 de 5"
    cached = Progress(FEATURES, 0, 0)  # a retraining: it once read "Computing features: 0 of 0"
    assert cached.describe() == "Computing features: every photo's are cached already" and cached.fraction == 1.0
